----------------------------- MODULE OrderEvents -----------------------------
\* specs/seed/order_events.ms: an order service publishes OrderCreated(1), (2), ... to two
\* bounded FIFO queues (blocking while either is full); WORKERS workers take orders from
\* the processing queue one at a time and mark them processed; a notification service reads
\* the other queue in order. The assertions of the spec are checked where it makes them.
EXTENDS Naturals, Sequences, TLC
CONSTANTS ORDERS, CAPACITY, WORKERS
VARIABLES created, pq, nq, processed, current, notified

vars == <<created, pq, nq, processed, current, notified>>
Workers == 1..WORKERS

Init == /\ created = 0
        /\ pq = <<>>
        /\ nq = <<>>
        /\ processed = {}
        /\ current = [w \in Workers |-> 0]
        /\ notified = 0

CreateOrder == /\ created < ORDERS
               /\ Len(pq) < CAPACITY /\ Len(nq) < CAPACITY
               /\ created' = created + 1
               /\ pq' = Append(pq, created + 1)
               /\ nq' = Append(nq, created + 1)
               /\ UNCHANGED <<processed, current, notified>>

Take(w) == /\ current[w] = 0 /\ pq /= <<>>
           /\ current' = [current EXCEPT ![w] = Head(pq)]
           /\ pq' = Tail(pq)
           /\ UNCHANGED <<created, nq, processed, notified>>

Finish(w) == /\ current[w] /= 0
             /\ Assert(current[w] \notin processed, "an order was processed twice")
             /\ processed' = processed \cup {current[w]}
             /\ current' = [current EXCEPT ![w] = 0]
             /\ UNCHANGED <<created, pq, nq, notified>>

Notify == /\ nq /= <<>>
          /\ Assert(Head(nq) = notified + 1, "notifications arrived out of order")
          /\ notified' = Head(nq)
          /\ nq' = Tail(nq)
          /\ UNCHANGED <<created, pq, processed, current>>

Next == CreateOrder \/ Notify \/ \E w \in Workers : Take(w) \/ Finish(w)
Spec == Init /\ [][Next]_vars
=============================================================================
