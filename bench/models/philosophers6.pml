/* Dining philosophers as specs/classic/philosophers6.ms writes them (six phases a meal).
   N comes from -DN=... */
chan fork[N] = [1] of { bit };

proctype phil(byte p) {
  do
  :: fork[p]?_;              /* take left */
     fork[(p + 1) % N]?_;    /* take right: ready */
     skip;                   /* start eating */
     skip;                   /* stop eating: sated */
     fork[(p + 1) % N]!1;    /* put right: releasing */
     fork[p]!1               /* put left */
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
