/* Dining philosophers as specs/classic/philosophers.ms writes them. N comes from -DN=... */
chan fork[N] = [1] of { bit };

proctype phil(byte p) {
  do
  :: fork[p]?_;              /* take left */
     fork[(p + 1) % N]?_;    /* take right */
     skip;                   /* eat */
     fork[p]!1;              /* put left */
     fork[(p + 1) % N]!1     /* put right */
  od
}

init {
  atomic {
    byte i = 0;
    do
    :: i < N -> fork[i]!1; run phil(i); i++
    :: else -> break
    od
  }
}
