/* Dining philosophers as specs/classic/philosophers6.ms writes them (six phases a meal).
   N comes from -DN=... The two steps that move no fork write eating[p], a global that only
   records the phase: SPIN merges steps on local data only into their neighbours, which
   would leave five phases (and `skip; skip` is folded into one). */
chan fork[N] = [1] of { bit };
bit eating[N];

proctype phil(byte p) {
  do
  :: fork[p]?_;              /* take left */
     fork[(p + 1) % N]?_;    /* take right: ready */
     eating[p] = 1;          /* start eating */
     eating[p] = 0;          /* stop eating: sated */
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
