"""The ``ffikit`` command: ``demo``, ``bench``, ``layout``, ``bind``, ``check-headers``, ``doctor``,
``cache``.

Exit codes: 0 success, 1 the check/command failed, 2 usage error (argparse's).
``bench`` needs a source checkout (it runs ``benchmarks/`` next to ``src/``);
``demo`` runs the case study from a checkout's ``examples/`` or from the copy a
wheel installs; the others work from an installed package.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ffikit.tools.results_table import write_results

__all__ = ["main"]

CHECKOUT = Path(__file__).resolve().parents[3]


class _UsageError(Exception):
    """A usage problem found after parsing (exit 2)."""


def _checkout_dir(name: str) -> Path:
    path = CHECKOUT / name
    if not path.is_dir():
        raise FileNotFoundError(
            f"no {name}/ directory at {path}: this command runs from a source checkout "
            "(git clone the project and run it there)")
    return path


# ---------------------------------------------------------------------------------------
# demo


def _case_study() -> Path:
    """examples/imaging of a checkout, else the copy a wheel installs under <prefix>/share."""
    import sysconfig

    for base in (CHECKOUT, Path(sysconfig.get_path("data")) / "share" / "ffikit",
                 Path(sysconfig.get_path("data", f"{os.name}_user")) / "share" / "ffikit"):
        if (base / "examples" / "imaging" / "imaging.py").is_file():
            return base / "examples" / "imaging"
    return _checkout_dir("examples") / "imaging"  # says what is missing


def _load_imaging(module: str = "imaging"):
    """A module of the case study (``imaging``, ``pngcodec``) from examples/imaging."""
    sys.path.insert(0, str(_case_study()))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.pop(0)


def _read_image(path: str):
    try:
        from PIL import Image  # type: ignore[import-not-found]
    except ImportError:
        raise _UsageError("--image needs Pillow (pip install pillow); without it the demo "
                          "generates its own test image") from None
    import numpy as np
    return np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8))


def _progress(text: str) -> None:
    """A progress line on long work, only when stderr is a terminal (quiet in logs and CI)."""
    if sys.stderr is not None and sys.stderr.isatty():
        print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)


def _best_time(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


class _Missing(Exception):
    """An optional dependency is not installed: one line, exit 1."""


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        import numpy as np
    except ImportError:
        raise _Missing("the demo needs NumPy: pip install ffikit[numpy]") from None

    im = _load_imaging()
    write_png = _load_imaging("pngcodec").write_png
    size = 256 if args.quick and args.size is None else (args.size or 1024)
    image = _read_image(args.image) if args.image else im.make_test_image(size, size, 3)
    h, w, c = image.shape
    rounds = 1 if args.quick else 7
    _progress(f"[1/4] building convolve.c and declaring it ({w}x{h}x{c} image)")
    im.library()
    crop = np.ascontiguousarray(image[:64, :64])
    scale = (h * w) / (crop.shape[0] * crop.shape[1])
    with im.SharedImage(image.shape) as src, im.SharedImage(image.shape) as dst:
        src.array[...] = image  # set-up, untimed: an app would build the image in shared memory
        im.gaussian_blur(src, workers=2, out=dst)  # start the worker process, untimed
        methods = {  # label -> (function, time multiplier)
            "ctypes + memmove (tutorial)": (lambda: im.blur_memmove(image), 1.0),
            "ffikit zero-copy": (lambda: im.gaussian_blur(image), 1.0),
            "ffikit zero-copy, 2 workers": (lambda: im.gaussian_blur(src, workers=2, out=dst),
                                            1.0),
            "NumPy (vectorised)": (lambda: im.blur_numpy(image), 1.0),
        }
        # Each method once per round, interleaved, best round kept: load from other
        # programs that comes and goes then affects every method alike.
        best = dict.fromkeys(methods, float("inf"))
        labels = list(methods)
        copied: dict[str, int] = {}
        results: dict[str, np.ndarray] = {}
        for r in range(rounds):
            _progress(f"[2/4] timing round {r + 1}/{rounds}: memmove, ffikit, 2 workers, NumPy")
            for label, (fn, _) in methods.items():
                im.CopyMeter.take()
                start = time.perf_counter()
                result = fn()
                best[label] = min(best[label], time.perf_counter() - start)
                copied.setdefault(label, im.CopyMeter.take())
                results.setdefault(label, result)
        if args.dask:
            dask_row = _dask_row(image, rounds)
            if dask_row is not None:
                labels.append(dask_row[0])
                best[dask_row[0]], copied[dask_row[0]], results[dask_row[0]] = dask_row[1:]
        memmove_out = results["ctypes + memmove (tutorial)"]
        ffikit_out = results["ffikit zero-copy"]
        parallel_out = dst.array.copy()
    im.shutdown_workers()
    _progress("[3/4] pure Python on a 64x64 crop (once; scaled to the full image)")
    python_seconds, python_out = _best_time(lambda: im.blur_python(crop), 1)
    numpy_out = results["NumPy (vectorised)"]
    rows = [(label, best[label], copied[label], False) for label in labels]
    rows.append(("pure Python, 64x64 crop (scaled)", python_seconds * scale, 0, True))
    _progress("[4/4] checking agreement and writing PNGs")
    if sys.stderr.isatty():
        print(file=sys.stderr)

    diffs = {
        "ctypes + memmove": np.abs(memmove_out.astype(int) - ffikit_out).max(),
        "2 workers": np.abs(parallel_out.astype(int) - ffikit_out).max(),
        "NumPy": np.abs(numpy_out.astype(int) - ffikit_out).max(),
        **{k.split(" ")[0]: np.abs(results[k].astype(int) - ffikit_out).max()
           for k in results if k.startswith("Dask")},
        "pure Python (crop)": np.abs(np.asarray(python_out).astype(int)
                                     - im.gaussian_blur(crop)).max(),
    }
    base = rows[1][1]
    print(f"Gaussian blur 5x5 (sigma 1.0) of a {w}x{h}x{c} image, best of {rounds} "
          "interleaved rounds:\n")
    print(f"| {'method':<34} | {'wall time':>12} | {'vs ffikit':>9} | {'bytes copied':>13} |")
    print(f"| {'-' * 34} | {'-' * 11}: | {'-' * 8}: | {'-' * 12}: |")
    for label, seconds, moved, scaled in rows:
        copied_text = "n/a" if scaled else f"{moved:,}"
        print(f"| {label:<34} | {seconds * 1e3:>9.1f} ms | {seconds / base:>8.2f}x | "
              f"{copied_text:>13} |")
    agree = all(d <= 1 for d in diffs.values())
    print("\nagreement with ffikit (max abs difference, must be <= 1): "
          + ", ".join(f"{k} {v}" for k, v in diffs.items()) + (" -- OK" if agree else " -- FAIL"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_png(str(out / "before.png"), image)
    write_png(str(out / "after.png"), ffikit_out)
    print(f"wrote {out / 'before.png'} and {out / 'after.png'}")
    return 0 if agree else 1


def _dask_row(image, rounds: int):
    """``(label, best seconds, bytes moved, result)`` for Dask on 2 local worker processes,
    or None (with a note) when Dask is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("ffikit demo: --dask: Dask is not installed (pip install ffikit[dask]); "
              "row skipped", file=sys.stderr)
        return None
    db = _load_imaging("dask_blur")
    _progress("[2/4] starting a Dask LocalCluster (2 worker processes, loopback)")
    chunks = (max(64, image.shape[0] // 4), image.shape[1])
    with db.local_cluster(2) as client:
        db.dask_blur(image, chunks=chunks).compute()  # warm-up: workers load the library
        best, result = _best_time(lambda: db.dask_blur(image, chunks=chunks).compute(), rounds)
        _, moved = db.measure_bytes_moved(lambda: db.dask_blur(image, chunks=chunks).compute())
        client.cluster.close()
    return "Dask LocalCluster, 2 processes", best, moved, result


# ---------------------------------------------------------------------------------------
# bench



def _bench_modules(directory: Path) -> list[Path]:
    return sorted(directory.glob("bench_*.py"))


def cmd_bench(args: argparse.Namespace) -> int:
    directory = _checkout_dir("benchmarks")
    sys.path.insert(0, str(directory))
    import harness  # type: ignore[import-not-found]

    all_rows, failed = [], []
    for path in _bench_modules(directory):
        _progress(f"running {path.name}{' (quick)' if args.quick else ''}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            rows = harness.finish(module.rows(quick=args.quick))
        except Exception as exc:  # report and go on: one broken suite must not hide the rest
            failed.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        for row in rows:
            row.group = f"{path.stem[6:]}: {row.group}"
        all_rows += rows
    _progress("")
    if args.json:
        print(json.dumps({"rows": [r.as_dict() for r in all_rows], "failed": failed,
                          "quick": args.quick, "time": time.time()}, indent=1))
    else:
        print(harness.table(all_rows))
    for line in failed:
        print(f"ffikit bench: {line}", file=sys.stderr)
    if args.write:
        if args.quick:
            print("ffikit bench: --write ignored with --quick (the README holds full runs only)",
                  file=sys.stderr)
        elif not failed:
            write_results(directory / "README.md", harness.table(all_rows))
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------
# layout / bind / doctor


def _header_path(name: str, include_dirs=()) -> str:
    """A header file by path, or by name on the include path (``zlib.h``)."""
    if os.path.exists(name):
        return name
    from ffikit.cdecl.preprocess import system_include_dirs

    searched = [*include_dirs, *system_include_dirs()]
    if not os.path.isabs(name):  # 'zlib.h', 'uuid/uuid.h'
        for directory in searched:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
    raise FileNotFoundError(f"no such file: {name} (searched: {', '.join(searched) or 'nothing'})")


def _declarations(path: str, platform: str | None = None, include_dirs=()):
    from ffikit.backends.ctypes.declarations import cdef, include
    if platform:
        return cdef(Path(path).read_text(), platform=platform)
    return include(path, include_dirs=[os.path.dirname(os.path.abspath(path)), *include_dirs])


def cmd_layout(args: argparse.Namespace) -> int:
    from ffikit.tools.layoutcheck import check_layouts, struct_names
    if args.check and args.platform:
        raise _UsageError("--check compares with this machine's compiler; drop --platform")
    args.header = _header_path(args.header, args.include_dir)
    defs = _declarations(args.header, args.platform, args.include_dir)
    names = args.types or struct_names(defs)
    if not names:
        print(f"{args.header}: no complete structs or unions declared")
        return 0
    for name in names:
        try:
            lay = defs.layout(name)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            print(f"ffikit layout: {name}: {exc}", file=sys.stderr)
            return 1
        if not args.check:
            print(f"{lay}\npadding {sum(n for _, n in lay.holes)} bytes\n")
    if args.check:
        diffs = check_layouts(defs, args.header, names, against=args.against,
                              include_dirs=args.include_dir)
        for d in diffs:
            print(f"DIFFERENT {d}")
        verdict = f"{len(diffs)} difference(s)" if diffs else "no differences"
        print(f"checked {len(names)} type(s) against the C compiler: {verdict}")
        return 1 if diffs else 0
    return 0


def cmd_bind(args: argparse.Namespace) -> int:
    from ffikit.tools.bindgen import generate
    args.header = _header_path(args.header, args.include_dir)
    defs = _declarations(args.header, include_dirs=args.include_dir)
    module, stub = generate(defs, os.path.basename(args.header), args.library,
                            prefix=args.prefix, exclude=args.exclude, compiled=args.compiled)
    out = Path(args.output)
    if out.suffix != ".py":
        raise _UsageError(f"-o must name a .py file (got {args.output})")
    out.write_text(module)
    out.with_suffix(".pyi").write_text(stub)
    print(f"wrote {out} and {out.with_suffix('.pyi')}")
    if args.compiled:
        from ffikit.backends.compiled import available, build_beside
        from ffikit.tools.bindgen import compiled_source

        modname, source = compiled_source(defs, prefix=args.prefix, exclude=args.exclude)
        c_file = out.with_name(out.stem + "_compiled.c")
        c_file.write_text(source)
        ok, why = available()
        if not ok:
            print(f"wrote {c_file}; not built: {why}")
            return 1
        print(f"wrote {c_file} and {build_beside(str(out.parent), modname, source)}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from ffikit.build import cache_clear, cache_info
    if args.action == "clear":
        removed = cache_clear()
        print(f"removed {removed} cache entr{'y' if removed == 1 else 'ies'} (libraries and "
              f"declaration models) from {cache_info()['location']}")
        return 0
    info = cache_info()
    models = sum(1 for name, _ in info["files"] if name.startswith("model-"))
    print(f"location: {info['location']}\nentries:  {info['entries']} ({models} declaration "
          f"models)\nsize:     {info['bytes']:,} bytes (bound {info['bound']:,}: $FFIKIT_CACHE_SIZE MiB)")
    for name, size in info["files"] if args.verbose else ():
        print(f"  {size:>12,}  {name}")
    return 0


def cmd_check_headers(args: argparse.Namespace) -> int:
    from ffikit.tools.headersweep import FAILED, header_list, summary, sweep
    if not os.path.isdir(args.directory):
        raise _UsageError(f"not a directory: {args.directory}")
    headers = args.headers or header_list(args.directory, args.per_dir)
    results = sweep(args.directory, headers, jobs=args.jobs)
    print(summary(results, per_header=args.per_header))
    return 1 if any(r.status in FAILED for r in results) else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ffikit.tools.doctor import diagnose
    diagnosis = diagnose(args.library)
    print(diagnosis.report())
    return 0 if diagnosis.ok else 1


# ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ffikit`` command."""
    p = argparse.ArgumentParser(prog="ffikit", description="Safe, zero-copy, fast calls from "
                                "Python to C: tools around the ffikit library.")
    p.add_argument("--version", action="version", version=f"ffikit {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("demo", help="the zero-copy image convolution case study, timed",
                       description="Blur a 1024x1024x3 image with a C kernel five ways and "
                       "compare wall time and bytes copied; writes before/after PNGs.")
    d.add_argument("--size", type=int, help="side of the generated square image (default 1024)")
    d.add_argument("--image", help="blur this image instead (needs Pillow)")
    d.add_argument("--out", default="demo-out", help="directory for the PNGs (default demo-out)")
    d.add_argument("--quick", action="store_true", help="a 256x256 image, one repeat")
    d.add_argument("--dask", action="store_true",
                   help="add a row: Dask map_overlap on a 2-process LocalCluster (ffikit[dask])")
    d.set_defaults(run=cmd_demo)

    b = sub.add_parser("bench", help="run every benchmarks/bench_*.py side by side",
                       description="Run the benchmark suites and print one table (or JSON); "
                       "with --write, also replace benchmarks/README.md's results table.")
    b.add_argument("--quick", action="store_true", help="small sizes (never written to the README)")
    b.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    b.add_argument("--write", action="store_true",
                   help="write this (full, successful) run's table into benchmarks/README.md")
    b.set_defaults(run=cmd_bench)

    lay = sub.add_parser("layout", help="struct layouts of a header or C file",
                         description="Print each struct's offsets, sizes, padding and alignment; "
                         "--check compares them with the system C compiler (exit 1 on any "
                         "difference).")
    lay.add_argument("header", metavar="HEADER_OR_C")
    lay.add_argument("types", nargs="*", metavar="TYPE", help="types to show (default: all)")
    lay.add_argument("--platform", help="ABI to lay out for, e.g. windows (not with --check)")
    lay.add_argument("--check", action="store_true", help="compare with the C compiler")
    lay.add_argument("--against", metavar="HEADER",
                     help="with --check: compile the probe against this header instead")
    lay.add_argument("-I", dest="include_dir", action="append", default=[], metavar="DIR")
    lay.set_defaults(run=cmd_layout)

    bind = sub.add_parser("bind", help="write a Python module (+ .pyi) binding a header",
                          description="Generate a readable module that loads LIB with HEADER's "
                          "functions, types, enums and constants, and a typed .pyi stub.")
    bind.add_argument("header", metavar="HEADER")
    bind.add_argument("-l", "--library", required=True, metavar="LIB",
                      help="library to load (name like 'z', soname or path)")
    bind.add_argument("-o", "--output", required=True, metavar="MODULE.py")
    bind.add_argument("--prefix", default="", metavar="PFX", help="keep names starting with PFX (any case)")
    bind.add_argument("--exclude", metavar="REGEX", help="leave out names matching REGEX")
    bind.add_argument("-I", dest="include_dir", action="append", default=[], metavar="DIR")
    bind.add_argument("--compiled", action="store_true",
                      help="also write the compiled backend's C extension source beside the "
                      "module and build it there (importing the binding then compiles nothing)")
    bind.set_defaults(run=cmd_bind)

    chk = sub.add_parser("check-headers", help="which headers gcc compiles alone and ffikit "
                         "parses", description="Compile '#include <h>' alone for every header "
                         "under DIR (top level and sys/ whole, PER_DIR of each other folder); "
                         "parse the ones gcc accepts (and generate their `ffikit bind` "
                         "module); print parsed / refused (with the reason) / crashed / bind-crashed / "
                         "gcc-rejects counts and the functions and constants found.  Exit 1 "
                         "if any is refused or crashes.")
    chk.add_argument("directory", metavar="DIR")
    chk.add_argument("headers", nargs="*", metavar="HEADER", help="only these (relative to DIR)")
    chk.add_argument("--per-dir", type=int, default=2, metavar="N",
                     help="headers taken from each sub-folder (default 2)")
    chk.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    chk.add_argument("--per-header", action="store_true",
                     help="list the functions and constants each parsed header gives")
    chk.set_defaults(run=cmd_check_headers)

    doc = sub.add_parser("doctor", help="explain how a library is found and loaded",
                         description="Show the candidates tried, the chosen file, its "
                         "architecture, dependencies (and which are missing), exports.")
    doc.add_argument("library", metavar="LIB")
    doc.set_defaults(run=cmd_doctor)

    cache = sub.add_parser("cache", help="the build cache: where, how big, clear it",
                           description="Show the ffikit.build cache (location, entries, size) "
                           "or delete what it holds.")
    cache.add_argument("action", choices=("info", "clear"), nargs="?", default="info")
    cache.add_argument("-v", "--verbose", action="store_true", help="list each entry")
    cache.set_defaults(run=cmd_cache)
    return p


def _version() -> str:
    try:
        return importlib.metadata.version("ffikit")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ffikit`` command; returns the exit code."""
    p = parser()
    args = p.parse_args(argv)
    from ffikit.errors import FFIError
    _enable_faulthandler()
    try:
        return args.run(args)
    except _Missing as exc:
        print(f"ffikit {args.command}: {exc}", file=sys.stderr)
        return 1
    except _UsageError as exc:
        p.print_usage(sys.stderr)
        print(f"ffikit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FFIError, OSError, ValueError, KeyError, re_error()) as exc:
        print(f"ffikit {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _enable_faulthandler() -> None:
    """What ``ffikit.enable_faulthandler()`` does (the package's top level is above this layer)."""
    import faulthandler

    from ffikit.backends.compiled import report_crashes
    if not faulthandler.is_enabled() and sys.stderr is not None:
        try:
            faulthandler.enable()
        except (AttributeError, ValueError, OSError):
            return
    report_crashes()


def re_error() -> type[Exception]:
    import re
    return re.error
