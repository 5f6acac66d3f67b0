---------------------------- MODULE Philosophers6 ----------------------------
\* Dining philosophers as specs/classic/philosophers6.ms writes them: forks are one-slot
\* channels (1 = the fork is on the table); each philosopher takes the left fork, takes the
\* right fork, starts eating, stops eating, puts the right fork back, puts the left fork back.
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
                /\ phase' = [phase EXCEPT ![p] = "ready"]
StartEating(p) == /\ phase[p] = "ready"
                  /\ phase' = [phase EXCEPT ![p] = "eating"]
                  /\ UNCHANGED fork
StopEating(p) == /\ phase[p] = "eating"
                 /\ phase' = [phase EXCEPT ![p] = "sated"]
                 /\ UNCHANGED fork
PutRight(p) == /\ phase[p] = "sated" /\ fork[Right(p)] = 0
               /\ fork' = [fork EXCEPT ![Right(p)] = 1]
               /\ phase' = [phase EXCEPT ![p] = "releasing"]
PutLeft(p) == /\ phase[p] = "releasing" /\ fork[p] = 0
              /\ fork' = [fork EXCEPT ![p] = 1]
              /\ phase' = [phase EXCEPT ![p] = "thinking"]

Next == \E p \in Phil : TakeLeft(p) \/ TakeRight(p) \/ StartEating(p) \/ StopEating(p)
                        \/ PutRight(p) \/ PutLeft(p)
Spec == Init /\ [][Next]_<<phase, fork>>
=============================================================================
