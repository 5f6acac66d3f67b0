"""The ``mscheck`` command: parses options, calls the stages, maps results to exit codes.

Exit codes: 0 all properties hold, 1 a violation (or a smell above threshold),
2 usage or spec error, 3 inconclusive.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from mscheck import __version__
from mscheck.diagnostics import Diagnostic, SpecError

EXIT_OK, EXIT_VIOLATION, EXIT_ERROR, EXIT_INCONCLUSIVE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a one-line hint, as documented
        self.print_usage(sys.stderr)
        print(f"mscheck: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def _count(text: str) -> int:
    """An option that counts (faults, states, steps, runs): a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _seconds(text: str) -> float:
    """A time limit: a number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not '{text}'") \
            from None
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


#: The counts and time limits a configuration file may set (the command line's own values
#: are checked by :func:`_count` and :func:`_seconds`), by their key in the file.
_CONFIG_COUNTS = {"max_faults": "max-faults", "max_states": "max-states",
                  "max_depth": "max-depth", "timeout": "timeout", "depth": "depth"}


#: Options the configuration may set to one of a few words (by attribute: key, the words).
_CONFIG_CHOICES = {"engine": ("engine", ("auto", "vector", "packed", "scalar")),
                   "faults": ("faults", ("all", "none")),
                   "method": ("prove.method", ("auto", "inductive", "bmc", "kind", "pdr"))}


def _bad_config_count(args) -> str | None:
    """The first value taken from the configuration that is not one its option allows (a
    count or time limit negative or not a number, a memory size that is not one, a word
    not among the option's), as an error message; None when all are fine."""
    for attr, key in _CONFIG_COUNTS.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        whole = isinstance(value, int) or attr == "timeout"
        if not (number and whole and value >= 0 and value == value and value != math.inf):
            kind = "a number of seconds" if attr == "timeout" else "a whole number"
            return f"configuration: {key} must be {kind} >= 0, not {value!r}"
    for attr, (key, words) in _CONFIG_CHOICES.items():
        value = getattr(args, attr, None)
        if value is not None and value not in words:
            return f"configuration: {key} must be one of {', '.join(words)}, not {value!r}"
    if getattr(args, "memory", None) is not None:
        try:
            args.memory = _memory_bytes(args.memory)
        except ValueError:
            return (f"configuration: limits.memory must be a size such as \"2G\" or "
                    f"\"512M\" (or a number of bytes), not {args.memory!r}")
    return None


def _const_overrides(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SpecError([Diagnostic("MS217", f"--const {item}: write NAME=VALUE")])
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip()
    return out


def _load(path: str, consts: dict[str, str]):
    """Read, parse and lower one file; returns (spec, source text)."""
    from mscheck.ir.lower import lower
    from mscheck.lang.cache import parse
    from mscheck.lang.source import read_source

    text = read_source(path)
    return lower(parse(text, path), consts, text), text


MACHINE_FORMATS = ("json", "sarif", "junit", "github")


def _outputs(args) -> list[tuple[str, str]]:
    """``--output FORMAT=FILE`` pairs (several reporters in one run)."""
    out = []
    for item in getattr(args, "output", None) or []:
        fmt, sep, path = item.partition("=")
        if not sep or not path:
            raise SpecError([Diagnostic("MS217", f"--output {item}: write FORMAT=FILE, for "
                                        "example sarif=results.sarif")])
        out.append((fmt.strip(), path.strip()))
    return out


def _render(fmt: str, command: str, doc: dict, spec, text_fn, args) -> str:
    """One document in one format: text (the command's own), json, sarif, junit, github,
    mermaid (check traces) or html."""
    if fmt == "text":
        return text_fn(doc)
    if fmt == "json":
        import json

        return json.dumps(doc, indent=2)
    if fmt == "mermaid":
        from mscheck.report.mermaid import trace_to_mermaid

        return "\n\n".join(trace_to_mermaid(v, spec) for v in doc.get("violations", []))
    if fmt == "html":
        from mscheck.report.html import to_html

        return to_html(spec, **{f"{command}_doc": doc})
    from mscheck.report import results

    if command == "check":
        rr = results.from_check(doc, spec, deadlock=not getattr(args, "no_deadlock", False),
                                properties=getattr(args, "property", None))
    elif command == "prove":
        rr = results.from_prove(doc, spec)
    else:
        rr = results.from_metrics(doc, spec)
    if fmt == "sarif":
        import json

        from mscheck.report.sarif import to_sarif

        return json.dumps(to_sarif([rr]), indent=2)
    if fmt == "junit":
        from mscheck.report.junit import to_junit

        return to_junit([rr])
    from mscheck.report.github import to_github

    return to_github([rr])


def _emit_files(args, command: str, doc: dict, spec, text_fn) -> None:
    """Write each ``--output FORMAT=FILE``."""
    for fmt, path in _outputs(args):
        text = _render(fmt, command, doc, spec, text_fn, args)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")


def _emit(args, command: str, doc: dict, spec, text_fn) -> None:
    """Print the document in ``--format`` and write each ``--output FORMAT=FILE``."""
    _emit_files(args, command, doc, spec, text_fn)
    text = _render(args.format, command, doc, spec, text_fn, args)
    if text:
        print(text)


def _load_reporting(args):
    """Load ``args.file`` with ``args.const``; on a spec error print it and return None."""
    from mscheck.lang.source import read_source

    sources: dict[str, str] = {}
    try:
        sources[args.file] = read_source(args.file)
        spec, _ = _load(args.file, _const_overrides(args.const))
    except SpecError as exc:
        _print_diags(exc.diagnostics, sources, "text")
        return None, None
    return spec, sources[args.file]


def _print_diags(diags, sources, fmt: str, stream=None) -> None:
    from mscheck.report.diagnostics import render_text

    if fmt == "text" and diags:
        print(render_text(diags, sources), file=stream or sys.stderr)


def cmd_lint(args) -> int:
    import json

    from mscheck.report.diagnostics import to_json

    consts = _const_overrides(args.const)
    results, worst, runs = [], EXIT_OK, []
    for path in args.files:
        sources: dict[str, str] = {}
        try:
            from mscheck.lang.source import read_source

            sources[path] = read_source(path)
            spec, _ = _load(path, consts)
            diags = list(spec.warnings)
        except SpecError as exc:
            diags = list(exc.diagnostics)
        errors = [d for d in diags if d.severity == "error"]
        if errors:
            worst = EXIT_ERROR
        results.append({"file": path, "ok": not errors, "diagnostics": to_json(diags)})
        runs.append((diags, path))
        _print_diags(diags, sources, args.format)
    if args.format in ("sarif", "junit", "github"):
        from mscheck.report.results import from_diagnostics

        rrs = [from_diagnostics(d, p) for d, p in runs]
        if args.format == "sarif":
            from mscheck.report.sarif import to_sarif

            print(json.dumps(to_sarif(rrs), indent=2))
        elif args.format == "junit":
            from mscheck.report.junit import to_junit

            print(to_junit(rrs))
        else:
            from mscheck.report.github import to_github

            print(to_github(rrs))
    elif args.format == "json":
        print(json.dumps({"version": 1, "tool": "mscheck", "command": "lint", "files": results},
                         indent=2))
    else:
        bad = sum(1 for r in results if not r["ok"])
        n = len(results)
        msg = f"{n - bad} of {n} file(s) ok" if bad else f"{n} file(s) ok"
        print(msg, file=sys.stderr if bad else sys.stdout)
    return worst


def cmd_model(args) -> int:
    import json

    from mscheck.ir.formal import formal_model, relation_model
    from mscheck.report.model import render_formal, render_relations

    spec, _ = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    formal, rel = formal_model(spec), relation_model(spec)
    if args.format == "json":
        print(json.dumps({"version": 1, "formal_model": formal, "relation_model": rel}, indent=2))
    else:
        print(render_formal(formal))
        print()
        print(render_relations(rel))
    return EXIT_OK


def _memory_bytes(value) -> int:
    """A memory size in bytes: text with a unit (``2G``, ``512M``, ``64KiB``; a number
    alone is MiB), or a whole number of bytes (from the configuration). ValueError when it
    is not one, or negative."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        units = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
        t = value.strip().lower().removesuffix("b").removesuffix("i")
        unit = units.get(t[-1:])
        x = float(t[:-1] if unit else t)  # ValueError when it is no number
        if not math.isfinite(x):
            raise ValueError(value)
        size = int(x * (unit or 2**20))
    else:
        raise ValueError(value)
    if size < 0:
        raise ValueError(value)
    return size


def _memory(text: str) -> int:
    """The ``--memory`` option: a size (see :func:`_memory_bytes`)."""
    try:
        return _memory_bytes(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 2G or 512M, not "
                                         f"'{text}'") from None


def _progress_printer():
    """A progress line on stderr, rewritten in place on a terminal, for runs over a second.
    The console is made at the first report (runs under a second never import rich here)."""
    state = {"last": 0.0, "con": None, "tty": False}

    def report(p: dict) -> None:
        if state["con"] is None:
            from rich.console import Console

            state["con"] = Console(stderr=True, highlight=False)
            state["tty"] = state["con"].is_terminal
        con, tty = state["con"], state["tty"]
        if not tty and p["seconds"] - state["last"] < 10:
            return
        state["last"] = p["seconds"]
        if "stage" in p:  # after the search
            msg = f"{p['stage']}, {p['memory'] / 2**20:,.0f} MiB, {p['seconds']:.0f} s"
        else:
            rate = p["states"] / p["seconds"] if p["seconds"] else 0
            msg = (f"{p['states']:,} states, {rate:,.0f} states/s, queue {p['queue']:,}, "
                   f"depth {p['depth']}, {p['memory'] / 2**20:,.0f} MiB, "
                   f"{p['seconds']:.0f} s")
        if tty:
            con.file.write("\r\x1b[2K" + msg)
            con.file.flush()
        else:
            print(msg, file=sys.stderr)

    def finish() -> None:
        if state["tty"] and state["last"]:
            state["con"].file.write("\r\x1b[2K")
            state["con"].file.flush()

    return report, finish


def cmd_check(args) -> int:
    from mscheck.engine.check import UsageError, check_spec
    from mscheck.engine.compile import Unsupported
    from mscheck.engine.search import Limits
    from mscheck.report.check import render_check

    spec, source = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    # without --memory, a cap below the memory free now: ended as inconclusive, not swapping
    limits = Limits.capped(args.memory,
                           max_states=args.max_states, max_depth=args.max_depth,
                           timeout=args.timeout)
    report, finish = _progress_printer()
    try:
        doc = check_spec(spec, strategy=args.strategy, limits=limits,
                         deadlock=not args.no_deadlock, keep_going=args.keep_going,
                         properties=args.property, progress=report, engine=args.engine,
                         faults=args.faults != "none", max_faults=args.max_faults,
                         coverage=args.coverage, fingerprints=args.fingerprints,
                         workers=args.workers, tune_memory=True)  # one search a process
    except Unsupported as exc:
        finish()
        where = f"{exc.span}: " if exc.span else ""
        print(f"{where}inconclusive: {exc}", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    except UsageError as exc:
        finish()
        print(f"mscheck: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finish()
    _emit(args, "check", doc, spec,
          lambda d: render_check(d, source, color=sys.stdout.isatty()))
    return {"ok": EXIT_OK, "violation": EXIT_VIOLATION}.get(doc["verdict"], EXIT_INCONCLUSIVE)


def cmd_simulate(args) -> int:
    import json

    from mscheck.engine.compile import CompiledModel, Unsupported
    from mscheck.engine.simulate import simulate
    from mscheck.report.check import render_simulation

    spec, source = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    weights = {}
    for item in args.weight or []:
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            print(f"mscheck: error: --weight {item}: write Service.step=WEIGHT", file=sys.stderr)
            return EXIT_ERROR
    try:
        model = CompiledModel(spec, faults=args.faults != "none", max_faults=args.max_faults)
        doc = simulate(model, args.runs, args.depth, args.seed, weights or None, args.property,
                       deadlock=not args.no_deadlock, timeout=args.timeout)
    except (Unsupported, ValueError) as exc:
        print(f"mscheck: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print(render_simulation(doc, source, color=sys.stdout.isatty()))
    return EXIT_VIOLATION if doc["verdict"] == "violation" else EXIT_INCONCLUSIVE


def cmd_metrics(args) -> int:
    from mscheck.report.metrics import (metrics_document, metrics_exit_code, render_metrics_csv,
                                        render_metrics_text)

    spec, _ = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    doc = metrics_document(spec, thresholds=getattr(args, "thresholds", None),
                           suggest=args.suggest)
    if args.format == "csv":
        print(render_metrics_csv(doc), end="")
        _emit_files(args, "metrics", doc, spec, render_metrics_text)
    else:
        _emit(args, "metrics", doc, spec, render_metrics_text)
    fail_on = {x.strip() for x in args.fail_on.split(",") if x.strip()} if args.fail_on else set()
    return metrics_exit_code(doc, fail_on)


def cmd_report(args) -> int:
    from mscheck.report.html import build_report

    spec, _ = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    page = build_report(spec, prove=not args.no_prove, prove_options={"timeout": args.timeout})
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(page)
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_graph(args) -> int:
    from mscheck.render.graph import DotNotFound, render, to_dot, to_mermaid

    spec, _ = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    out = args.output
    fmt = args.format or (out.rsplit(".", 1)[-1].lower() if out and "." in out else "dot")
    if fmt in ("mmd", "mermaid"):
        text = to_mermaid(spec, view=args.view)
    elif fmt in ("dot", "gv", "svg", "png", "pdf"):
        text = to_dot(spec, view=args.view)
    else:
        print(f"mscheck: error: unknown graph format '{fmt}'; use svg, png, pdf, dot or mmd",
              file=sys.stderr)
        return EXIT_ERROR
    if fmt in ("svg", "png", "pdf"):
        if not out:
            print("mscheck: error: -o FILE is needed for svg, png and pdf", file=sys.stderr)
            return EXIT_ERROR
        try:
            render(text, out)
        except DotNotFound:
            print("mscheck: error: drawing svg/png needs Graphviz's 'dot' program (apt-get "
                  "install graphviz); '-o graph.dot' or '--format mmd' need nothing",
                  file=sys.stderr)
            return EXIT_ERROR
        except RuntimeError as exc:
            print(f"mscheck: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        print(f"wrote {out}", file=sys.stderr)
        return EXIT_OK
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def cmd_prove(args) -> int:
    from mscheck.report.prove import prove_exit_code, render_prove_text
    from mscheck.smt import prove_spec

    spec, _ = _load_reporting(args)
    if spec is None:
        return EXIT_ERROR
    using = tuple(u.strip() for u in args.using.split(",") if u.strip()) if args.using else ()
    names = {p.name for p in spec.properties if p.kind == "invariant"}
    if not names:
        print(f"mscheck: error: nothing to prove: {args.file} declares no invariant",
              file=sys.stderr)
        return EXIT_ERROR
    for name in ([args.property] if args.property else []) + list(using):
        if name not in names:
            print(f"mscheck: error: no invariant named '{name}'; the spec has "
                  f"{', '.join(sorted(names)) or 'none'}", file=sys.stderr)
            return EXIT_ERROR
    doc = prove_spec(spec, property=args.property, method=args.method, depth=args.depth,
                     timeout=args.timeout, using=using)
    _emit(args, "prove", doc, spec, render_prove_text)
    return prove_exit_code(doc)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mscheck", description="Check, prove, measure and draw microservice "
                "architectures written in .ms files.")
    p.add_argument("--version", action="version", version=f"mscheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    lint = sub.add_parser("lint", help="parse and check specs; report every diagnostic")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.add_argument("--format", choices=["text", "json", "sarif", "junit", "github"],
                      default="text")
    lint.add_argument("--const", action="append", metavar="NAME=VALUE",
                      help="override a constant (repeatable)")
    lint.set_defaults(func=cmd_lint)

    model = sub.add_parser("model", help="print the formal model MS = (S, I, O, C, TS) and the "
                           "relation model (S, D, C, O)")
    model.add_argument("file", metavar="FILE")
    model.add_argument("--format", choices=["text", "json"], default="text")
    model.add_argument("--const", action="append", metavar="NAME=VALUE")
    model.set_defaults(func=cmd_model)

    formats = ["text", "json", "sarif", "junit", "github"]
    out_help = "also write FORMAT (json, sarif, junit, github, html, ...) to FILE (repeatable)"
    check = sub.add_parser("check", help="explore every reachable state: deadlocks, invariants, "
                           "assertions, reachability, liveness")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--format", choices=formats + ["mermaid", "html"], default="text")
    check.add_argument("--output", action="append", metavar="FORMAT=FILE", help=out_help)
    check.add_argument("--const", action="append", metavar="NAME=VALUE")
    check.add_argument("--property", action="append", metavar="NAME",
                       help="check only these properties (repeatable; 'deadlock_free' included)")
    check.add_argument("--no-deadlock", action="store_true", help="do not report deadlocks")
    check.add_argument("--continue", dest="keep_going", action="store_true",
                       help="keep exploring after a violation (counts the whole state space)")
    check.add_argument("--strategy", choices=["bfs", "dfs"], default="bfs",
                       help="breadth-first (shortest traces, the default) or depth-first")
    check.add_argument("--engine", choices=["auto", "vector", "packed", "scalar"], default=None,
                       help="vector: numpy over whole levels of packed states; packed: the "
                       "same states in a Python loop; scalar: the general engine; auto (the "
                       "default) picks the fastest one the spec allows")
    check.add_argument("--workers", type=int, choices=[1, 2], default=1,
                       help="vector engine: share levels of 65,536 states or more between two "
                       "processes (Linux; the same results; not with liveness)")
    check.add_argument("--faults", choices=["all", "none"], default=None,
                       help="explore lossy/duplicating/reordering channels and crashes (all), "
                       "or check as if no fault flag were set (none)")
    check.add_argument("--max-faults", type=_count, metavar="K",
                       help="at most K faults (losses, duplicates, reorders, crashes) per run")
    check.add_argument("--fingerprints", action="store_true",
                       help="scalar engine: keep a 64-bit fingerprint of each visited state "
                       "instead of the state (far less memory; the collision probability is "
                       "reported); the packed and vector engines store exact packed states")
    check.add_argument("--coverage", action="store_true",
                       help="after the check, how often each action and handler was enabled "
                       "and taken; flags those never taken")
    check.add_argument("--max-states", type=_count, metavar="N")
    check.add_argument("--max-depth", type=_count, metavar="N")
    check.add_argument("--timeout", type=_seconds, metavar="SECONDS")  # (also from the config)
    check.add_argument("--memory", type=_memory, metavar="SIZE",
                       help="resident memory cap, e.g. 2G or 512M (default: 90%% of the "
                            "memory free at the start)")
    check.set_defaults(func=cmd_check)

    sim = sub.add_parser("simulate", help="random runs for state spaces too large to exhaust; "
                         "reports the first violation, replayable from the seed")
    sim.add_argument("file", metavar="FILE")
    sim.add_argument("--runs", type=_count, default=100, metavar="N")
    sim.add_argument("--depth", type=_count, default=100, metavar="D", help="steps per run")
    sim.add_argument("--seed", type=int, default=0, metavar="S")
    sim.add_argument("--weight", action="append", metavar="Service.step=W",
                     help="pick this step W times as often (repeatable; 0 never)")
    sim.add_argument("--property", action="append", metavar="NAME")
    sim.add_argument("--no-deadlock", action="store_true")
    sim.add_argument("--faults", choices=["all", "none"], default="all")
    sim.add_argument("--max-faults", type=_count, metavar="K")
    sim.add_argument("--timeout", type=_seconds, metavar="SECONDS")
    sim.add_argument("--format", choices=["text", "json"], default="text")
    sim.add_argument("--const", action="append", metavar="NAME=VALUE")
    sim.set_defaults(func=cmd_simulate)

    prove = sub.add_parser("prove", help="prove invariants for every instance with Z3: "
                           "induction, BMC, k-induction, PDR")
    prove.add_argument("file", metavar="FILE")
    prove.add_argument("--property", metavar="NAME", help="prove this invariant (default: the "
                       "spec's 'prove' declarations)")
    prove.add_argument("--using", metavar="H1,H2", help="helper invariants for --property")
    prove.add_argument("--method", choices=["auto", "inductive", "bmc", "kind", "pdr"],
                       default=None)
    prove.add_argument("--depth", type=_count, default=None, metavar="K",
                       help="bound for bmc and k-induction (default 10)")
    prove.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="per property (default 30)")
    prove.add_argument("--format", choices=formats + ["html"], default="text")
    prove.add_argument("--output", action="append", metavar="FORMAT=FILE", help=out_help)
    prove.add_argument("--const", action="append", metavar="NAME=VALUE")
    prove.set_defaults(func=cmd_prove)

    metrics = sub.add_parser("metrics", help="cohesion, coupling, granularity metrics and "
                             "architecture smells")
    metrics.add_argument("file", metavar="FILE")
    metrics.add_argument("--format", choices=formats + ["csv", "html"], default="text")
    metrics.add_argument("--output", action="append", metavar="FORMAT=FILE", help=out_help)
    metrics.add_argument("--const", action="append", metavar="NAME=VALUE")
    metrics.add_argument("--suggest", action="store_true",
                         help="suggest a service cut from the components' relations")
    metrics.add_argument("--fail-on", metavar="SEVERITIES", default=None,
                         help="smell severities that make the exit code 1 (default: high; "
                         "'' for none)")
    metrics.set_defaults(func=cmd_metrics)

    report = sub.add_parser("report", help="one self-contained HTML page: architecture, "
                            "metrics, check with sequence charts, proofs")
    report.add_argument("file", metavar="FILE")
    report.add_argument("-o", "--output", metavar="OUT.html", default="report.html")
    report.add_argument("--const", action="append", metavar="NAME=VALUE")
    report.add_argument("--no-prove", action="store_true", help="leave the proofs out")
    report.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                        help="per proof (default 10)")
    report.set_defaults(func=cmd_report)

    graph = sub.add_parser("graph", help="draw the architecture: svg, png, pdf, dot or mermaid")
    graph.add_argument("file", metavar="FILE")
    graph.add_argument("-o", "--output", metavar="OUT", help="out.svg, out.png, out.dot, out.mmd")
    graph.add_argument("--format", choices=["svg", "png", "pdf", "dot", "mmd"], default=None,
                       help="default: from the output's suffix, else dot on stdout")
    graph.add_argument("--view", choices=["services", "contexts", "components", "teams"],
                       default="services")
    graph.add_argument("--const", action="append", metavar="NAME=VALUE")
    graph.set_defaults(func=cmd_graph)
    return p


def _number(value, kind):
    """``value`` (from the configuration) as ``kind`` when it reads as one, else as it is."""
    try:
        return kind(value) if not isinstance(value, bool) else value
    except (TypeError, ValueError, OverflowError):
        return value


def _apply_config(args) -> None:
    """Fill options the command line left unset from mscheck.toml / [tool.mscheck]."""
    from mscheck.config import load_config

    cfg = load_config()
    cmd = args.command
    if cmd == "check":
        for key in ("max-states", "max-depth", "timeout", "memory"):
            attr = key.replace("-", "_")
            if getattr(args, attr) is None:
                setattr(args, attr, cfg.get("limits", key))
        if args.property is None and cfg.get("properties"):
            args.property = list(cfg.get("properties"))
        if args.engine is None:
            args.engine = cfg.get("engine", default="auto")
        if args.faults is None:
            args.faults = cfg.get("faults", default="all")
        if args.max_faults is None:
            args.max_faults = cfg.get("max-faults")
        args.no_deadlock = args.no_deadlock or bool(cfg.get("no-deadlock", default=False))
    elif cmd == "metrics":
        if args.fail_on is None:
            fail_on = cfg.get("fail-on", default="high")
            args.fail_on = ",".join(fail_on) if isinstance(fail_on, list) else str(fail_on)
        args.thresholds = cfg.get("thresholds")
    elif cmd == "prove":
        if args.timeout is None:  # (what is no number is said by _bad_config_count)
            args.timeout = _number(cfg.get("prove", "timeout", default=30.0), float)
        if args.depth is None:
            args.depth = _number(cfg.get("prove", "depth", default=10), int)
        if args.method is None:
            args.method = cfg.get("prove", "method", default="auto")


class _PipeGuard:
    """Standard output that survives its reader going away (``mscheck check ... | head -1``):
    on a broken pipe the file descriptor is pointed at the null device, so what is still
    written (and the flush at exit) goes nowhere and the command ends with its verdict's
    exit code, as a pipeline's ``pipefail`` expects."""

    def __init__(self, stream):
        self._stream = stream

    def _drop(self) -> None:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no descriptor (a captured stream)
            pass

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()
            try:  # the buffered rest now goes to the null device
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _builtin_hashes() -> None:
    """Import hashlib on the interpreter's own digests rather than OpenSSL's. lark imports
    hashlib only to name its cache files (sha256); through OpenSSL's ``_hashlib`` that maps
    libcrypto into the process, 3.4 MiB resident, a sixteenth of a whole check of a model
    of 600,000 states. Only the command line does this (a program that imports mscheck
    keeps its own hashlib), and only before anything imported hashlib; a later
    ``import _hashlib`` (hmac, for two search processes) still loads OpenSSL."""
    from importlib.util import find_spec

    if "hashlib" in sys.modules or "_hashlib" in sys.modules:
        return
    if not (find_spec("_sha256") or find_spec("_sha2")):  # no built-in sha256 to fall on
        return
    sys.modules["_hashlib"] = None  # type: ignore[assignment]  # import fails: built-ins
    try:
        import hashlib  # noqa: F401
    finally:
        del sys.modules["_hashlib"]


def main(argv: list[str] | None = None) -> int:
    _builtin_hashes()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    stdout = sys.stdout
    sys.stdout = _PipeGuard(stdout)
    try:
        return _run(args)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _run(args) -> int:
    try:
        _apply_config(args)
        bad = _bad_config_count(args)
        if bad:
            print(f"mscheck: error: {bad}", file=sys.stderr)
            return EXIT_ERROR
        return args.func(args)
    except BrokenPipeError as exc:  # standard output is guarded: an --output FILE that is a pipe
        print(f"mscheck: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SpecError as exc:
        _print_diags(exc.diagnostics, {}, "text")
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mscheck: interrupted", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    except MemoryError:  # (the search itself stops at --memory; this is something else)
        print("mscheck: out of memory: no verdict", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    except Exception:  # noqa: BLE001 - a bug: shown, and never taken for a verdict (exit 1)
        import traceback

        traceback.print_exc()
        print("mscheck: internal error: no verdict (please report it, with the spec)",
              file=sys.stderr)
        return EXIT_INCONCLUSIVE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
