--------------------------- MODULE ServiceRegistry ---------------------------
\* specs/seed/service_registry.ms: N instances start (registering), stop (deregistering)
\* or crash; a registry applies the registrations from one control queue per instance
\* (two slots each), drops the registered instances that are not up in a health check, and
\* answers a frontend's lookups with a snapshot of what it holds; the frontend calls any
\* instance of its last snapshot and records whether that instance was up.
EXTENDS Naturals, Sequences
CONSTANTS N
VARIABLES registered, status, control, lookup, reply, view, asking, last

vars == <<registered, status, control, lookup, reply, view, asking, last>>
Inst == 1..N

Init == /\ registered = {}
        /\ status = [i \in Inst |-> "down"]
        /\ control = [i \in Inst |-> <<>>]
        /\ lookup = <<>>
        /\ reply = <<>>
        /\ view = {}
        /\ asking = FALSE
        /\ last = "none"

Register(i) == /\ control[i] /= <<>> /\ Head(control[i]) = "register"
               /\ registered' = registered \cup {i}
               /\ control' = [control EXCEPT ![i] = Tail(@)]
               /\ UNCHANGED <<status, lookup, reply, view, asking, last>>

Deregister(i) == /\ control[i] /= <<>> /\ Head(control[i]) = "deregister"
                 /\ registered' = registered \ {i}
                 /\ control' = [control EXCEPT ![i] = Tail(@)]
                 /\ UNCHANGED <<status, lookup, reply, view, asking, last>>

HealthCheck == /\ \E j \in registered : status[j] /= "up"
               /\ registered' = {j \in registered : status[j] = "up"}
               /\ UNCHANGED <<status, control, lookup, reply, view, asking, last>>

Answer == /\ lookup /= <<>> /\ reply = <<>>
          /\ lookup' = <<>>
          /\ reply' = <<registered>>
          /\ UNCHANGED <<registered, status, control, view, asking, last>>

Start(i) == /\ status[i] /= "up" /\ Len(control[i]) < 2
            /\ status' = [status EXCEPT ![i] = "up"]
            /\ control' = [control EXCEPT ![i] = Append(@, "register")]
            /\ UNCHANGED <<registered, lookup, reply, view, asking, last>>

Stop(i) == /\ status[i] = "up" /\ Len(control[i]) < 2
           /\ status' = [status EXCEPT ![i] = "down"]
           /\ control' = [control EXCEPT ![i] = Append(@, "deregister")]
           /\ UNCHANGED <<registered, lookup, reply, view, asking, last>>

Crash(i) == /\ status[i] = "up"
            /\ status' = [status EXCEPT ![i] = "crashed"]
            /\ UNCHANGED <<registered, control, lookup, reply, view, asking, last>>

Discover == /\ ~asking /\ lookup = <<>>
            /\ lookup' = <<"discover">>
            /\ asking' = TRUE
            /\ UNCHANGED <<registered, status, control, reply, view, last>>

Receive == /\ reply /= <<>>
           /\ view' = Head(reply)
           /\ reply' = <<>>
           /\ asking' = FALSE
           /\ UNCHANGED <<registered, status, control, lookup, last>>

Call(j) == /\ j \in view
           /\ last' = IF status[j] = "up" THEN "ok" ELSE "failed"
           /\ UNCHANGED <<registered, status, control, lookup, reply, view, asking>>

Next == \/ HealthCheck \/ Answer \/ Discover \/ Receive
        \/ \E i \in Inst : Register(i) \/ Deregister(i) \/ Start(i) \/ Stop(i) \/ Crash(i)
                           \/ Call(i)
Spec == Init /\ [][Next]_vars
=============================================================================
