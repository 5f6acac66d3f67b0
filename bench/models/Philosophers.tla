---------------------------- MODULE Philosophers ----------------------------
\* Dining philosophers as specs/classic/philosophers.ms writes them: forks are one-slot
\* channels (1 = the fork is on the table); each philosopher takes the left fork, takes the
\* right fork, eats, puts the left fork back, puts the right fork back.
EXTENDS Naturals
CONSTANT N
VARIABLES phase, fork

Phil == 1..N
Right(p) == IF p = N THEN 1 ELSE p + 1

Init == /\ phase = [p \in Phil |-> "thinking"]
        /\ fork = [f \in Phil |-> 1]

TakeLeft(p) == /\ phase[p] = "thinking" /\ fork[p] = 1
               /\ fork' = [fork EXCEPT ![p] = 0]
               /\ phase' = [phase EXCEPT ![p] = "holding_left"]
TakeRight(p) == /\ phase[p] = "holding_left" /\ fork[Right(p)] = 1
                /\ fork' = [fork EXCEPT ![Right(p)] = 0]
                /\ phase' = [phase EXCEPT ![p] = "eating"]
Eat(p) == /\ phase[p] = "eating"
          /\ phase' = [phase EXCEPT ![p] = "sated"]
          /\ UNCHANGED fork
PutLeft(p) == /\ phase[p] = "sated" /\ fork[p] = 0
              /\ fork' = [fork EXCEPT ![p] = 1]
              /\ phase' = [phase EXCEPT ![p] = "holding_right"]
PutRight(p) == /\ phase[p] = "holding_right" /\ fork[Right(p)] = 0
               /\ fork' = [fork EXCEPT ![Right(p)] = 1]
               /\ phase' = [phase EXCEPT ![p] = "thinking"]

Next == \E p \in Phil : TakeLeft(p) \/ TakeRight(p) \/ Eat(p) \/ PutLeft(p) \/ PutRight(p)
Spec == Init /\ [][Next]_<<phase, fork>>
=============================================================================
