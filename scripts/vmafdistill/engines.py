"""Real inference engines behind one small interface, and their agreement with ORT's CPU provider.

An ``Engine`` has a ``name``, ``describe()`` and ``run(model_path, x)``: raw features float32 ``[N, F]``
-> scores float32 ``[N]``, run in chunks of ``chunk_rows`` rows, never padded. ORT CPU, OpenVINO and
tract give a row the same bits at any batch size; torch and onnx-reference do not (batch 1 vs 10,000:
up to 256 ULP near score 0, measured on a nano student), so chunking can move their rows.
Each adapter imports its engine lazily (importing this module imports numpy alone). ``probe_engines``
starts engines and reports each one as available or *not checked* with the reason (not installed,
session failed, fell back to CPU, ...); it never raises. ``engine_table`` compares every engine with a
reference engine (``ort-cpu``) on datasets; ``engine_summary`` gives the table as export and gate read it.

Engines (``engine_names()``): ``ort-cpu`` (all graph optimisations, 1 thread: the reference),
``ort-cpu-noopt``, ``ort-<provider>`` for every other compute provider of this onnxruntime build and
every known provider it lacks, ``onnx-reference``, ``openvino-f32``, ``openvino-default``, ``tract``
and ``torch`` (eager, on the ``.pt`` beside the ``.onnx``).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import onnxrun
from .ulp import compare

CPU = "CPUExecutionProvider"
#: Listed by onnxruntime but not compute providers.
NON_COMPUTE_PROVIDERS = {"AzureExecutionProvider": "not a compute provider (remote endpoint calls)"}
#: Providers listed as "not checked" when this onnxruntime build lacks them.
KNOWN_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider", "OpenVINOExecutionProvider",
                   "CoreMLExecutionProvider", "DmlExecutionProvider", "ROCMExecutionProvider",
                   "MIGraphXExecutionProvider", "QNNExecutionProvider", "XnnpackExecutionProvider",
                   "WebGpuExecutionProvider")
#: Options that keep a provider in float32 (CUDA's default allows TF32 matmuls on Ampere and later).
PROVIDER_OPTIONS: dict[str, dict[str, str]] = {"CUDAExecutionProvider": {"use_tf32": "0"}}
#: What each provider computes in with its default options (a ``-default`` engine runs them), when not float32.
PROVIDER_DEFAULT_PRECISION: dict[str, str] = {"CUDAExecutionProvider": "tf32 (matmuls, Ampere and later)"}
CHUNK_ROWS = 65_536
#: The precision an engine computes in when it keeps float32 throughout (the exact tier's scope).
F32 = "f32"
#: How to keep OpenVINO's CPU plugin in float32 (its default on CPUs with AVX512-BF16 or AMX is bf16).
OPENVINO_FIX = "compile_model(model, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'}) (engine openvino-f32)"


class NotChecked(Exception):
    """An engine that cannot be judged here; the message is the reason."""


class Engine:
    """Base adapter: ``start`` imports ``module`` (a parameter, so any name can be probed) and opens a
    session per model file (cached); ``run`` scores rows in chunks, each through ``infer`` (one batch, as
    given, on a started session). Subclasses implement ``open_session`` and ``infer``."""

    name: str = "?"
    module: str = ""
    chunk_rows: int = CHUNK_ROWS
    #: ``default``: the engine as a user runs it out of the box; ``pinned``: settings that keep float32
    settings: str = "pinned"
    #: for a ``default`` engine, the setting that makes it compute in float32
    fix: str = ""

    def __init__(self, module: str | None = None) -> None:
        self.module = module or self.module
        self._sessions: dict[str, Any] = {}
        self.info: dict[str, Any] = {}  # what the engine chose (versions, precision, threads), set on start

    def describe(self) -> str:
        return self.name

    def precision(self) -> str:
        """What the engine computes in once started (``F32`` unless it says otherwise)."""
        return str(self.info.get("precision", F32))

    def _import(self) -> Any:
        return importlib.import_module(self.module)

    def open_session(self, path: Path) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self, model_path: str | Path) -> Any:
        """The engine's session on ``model_path`` (opened once); raises what the engine raises."""
        key = str(Path(model_path).resolve())
        if key not in self._sessions:
            self._sessions[key] = self.open_session(Path(model_path))
        return self._sessions[key]

    def run(self, model_path: str | Path, x: np.ndarray) -> np.ndarray:
        """float32 [N] scores of float32 [N, F] features, ``chunk_rows`` rows at a time."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"features must be [N, F], got shape {x.shape}")
        sess = self.start(model_path)
        parts = [np.asarray(self.infer(sess, x[i : i + self.chunk_rows]), dtype=np.float32).reshape(-1)
                 for i in range(0, len(x), self.chunk_rows)]
        out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if out.shape != (len(x),):
            raise RuntimeError(f"{self.name}: {out.shape} scores for {len(x)} rows")
        return out


class OrtEngine(Engine):
    """ONNX Runtime with one execution provider, 1 intra/inter-op thread, all optimisations or none."""

    def __init__(self, provider: str = CPU, optimize: bool = True, module: str = "onnxruntime",
                 defaults: bool = False) -> None:
        super().__init__(module)
        self.provider, self.optimize = provider, optimize
        self.options = None if defaults else PROVIDER_OPTIONS.get(provider)
        self.name = provider_engine_name(provider) + ("" if optimize else "-noopt") + ("-default" if defaults else "")
        if defaults:
            self.settings = "default"
            pinned = PROVIDER_OPTIONS.get(provider, {})
            self.fix = f"provider options {pinned} (engine {provider_engine_name(provider)})" if pinned else ""

    def describe(self) -> str:
        opts = self.options or ("(default options)" if self.settings == "default" else None)
        return (f"onnxruntime {self.provider}{f' {opts}' if opts else ''}, "
                f"graph optimisations {'all' if self.optimize else 'none'}, 1 thread")

    def open_session(self, path: Path) -> Any:
        ort = self._import()
        available = ort.get_available_providers()
        if self.provider in NON_COMPUTE_PROVIDERS:
            raise NotChecked(NON_COMPUTE_PROVIDERS[self.provider])
        if self.provider not in available:
            raise NotChecked("not installed in this onnxruntime build")
        sess = onnxrun.session(path, self.provider, self.optimize, 1, self.options, self.module)
        if self.provider not in sess.get_providers():
            raise NotChecked(f"fell back to CPU (session providers: {', '.join(sess.get_providers())})")
        default = self.settings == "default" and self.provider in PROVIDER_DEFAULT_PRECISION
        self.info = {"onnxruntime": ort.__version__, "providers": sess.get_providers(),
                     "precision": PROVIDER_DEFAULT_PRECISION[self.provider] if default else F32}
        return sess

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:
        return session.run(None, {session.get_inputs()[0].name: x})[0]


class OnnxReferenceEngine(Engine):
    """``onnx.reference.ReferenceEvaluator``: the ONNX spec's numpy implementation of each op."""

    name, module = "onnx-reference", "onnx.reference"

    def describe(self) -> str:
        return "onnx.reference.ReferenceEvaluator (numpy)"

    def open_session(self, path: Path) -> Any:
        return self._import().ReferenceEvaluator(str(path))

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:
        return session.run(None, {session.input_names[0]: x})[0]


class OpenVinoEngine(Engine):
    """OpenVINO on CPU with ``config`` (compile properties); ``info`` records what it chose."""

    module = "openvino"

    def __init__(self, name: str, config: dict[str, Any] | None = None, module: str | None = None) -> None:
        super().__init__(module)
        self.name, self.config = name, dict(config or {})
        if not self.config:
            self.settings, self.fix = "default", OPENVINO_FIX

    def describe(self) -> str:
        chose = f"; chose {self.info['precision']}, {self.info['threads']} thread(s)" if self.info else ""
        return f"OpenVINO CPU {self.config or '(default settings)'}{chose}"

    def open_session(self, path: Path) -> Any:
        ov = self._import()
        compiled = ov.Core().compile_model(str(path), "CPU", self.config)
        self.info = {
            "openvino": ov.get_version(),
            "precision": str(compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()),
            "threads": int(compiled.get_property("INFERENCE_NUM_THREADS")),
            "streams": int(compiled.get_property("NUM_STREAMS")),
            "execution_mode": str(compiled.get_property("EXECUTION_MODE_HINT")),
        }
        return compiled, compiled.create_infer_request()

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:
        compiled, request = session
        return np.array(request.infer({0: x})[compiled.output(0)], dtype=np.float32, copy=True)


#: OpenVINO pinned to float32 inference, accuracy mode, one thread, one stream.
OPENVINO_F32 = {"INFERENCE_PRECISION_HINT": "f32", "EXECUTION_MODE_HINT": "ACCURACY",
                "INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1}


class TractEngine(Engine):
    """Sonos tract (``tract.onnx().load(p).into_model().into_runnable()``), symbolic batch ``N``."""

    name, module = "tract", "tract"

    def describe(self) -> str:
        fact = self.info.get("input_fact", "N,F,f32")
        return f"tract {self.info.get('tract', '?')} CPU default runtime, input fact {fact}"

    def open_session(self, path: Path) -> Any:
        tract = self._import()
        model = tract.onnx().load(str(path))
        dims = str(model.input_fact(0)).split(",")[:-1]  # "N,6,f32" in the file: keep N symbolic, pin f32
        fact = ",".join(["N", *dims[1:], "f32"])
        model.set_input_fact(0, fact)
        self.info = {"tract": tract.version(), "input_fact": fact}
        return model.into_model().into_runnable()

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:
        return session.run([x])[0].to_numpy()


class TorchEngine(Engine):
    """torch eager on the student's ``.pt`` (``pt_path``, else ``<model>.pt`` beside the .onnx), 1 thread. Its
    student loader (``loader``: modelio, which imports torch) is imported on ``start``, as every engine is."""

    name, module = "torch", "torch"
    loader = f"{__package__}.modelio"

    def __init__(self, pt_path: str | Path | None = None, module: str | None = None) -> None:
        super().__init__(module)
        self.pt_path = Path(pt_path) if pt_path else None

    def describe(self) -> str:
        return f"torch {self.info.get('torch', '')} eager float32, 1 thread, weights {self.info.get('pt', '<tier>.pt')}"

    def open_session(self, path: Path) -> Any:
        torch = self._import()
        pt = self.pt_path or path.with_suffix(".pt")
        if not pt.is_file():
            raise NotChecked(f"no torch weights at {pt}")
        model, _ = importlib.import_module(self.loader).load_student(pt)
        self.info = {"torch": torch.__version__, "pt": str(pt)}
        return torch, model.float().eval()

    def infer(self, session: Any, x: np.ndarray) -> np.ndarray:
        torch, model = session
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()
        finally:
            torch.set_num_threads(threads)


def provider_engine_name(provider: str) -> str:
    """``CUDAExecutionProvider`` -> ``ort-cuda``, ``CPUExecutionProvider`` -> ``ort-cpu``."""
    return "ort-" + provider.removesuffix("ExecutionProvider").lower()


def _ort_providers() -> tuple[list[str], list[str]]:
    """(every provider known here or to this onnxruntime build, those available); no onnxruntime: none available."""
    try:
        import onnxruntime as ort
    except ImportError:
        return list(KNOWN_PROVIDERS), []
    return list(dict.fromkeys([*KNOWN_PROVIDERS, *ort.get_all_providers()])), list(ort.get_available_providers())


def engine_names(include_missing: bool = True) -> list[str]:
    """Every engine: both ORT CPU ones, each available compute provider (then the known missing ones)."""
    available = _ort_providers()[1]
    compute = [p for p in available if p != CPU and p not in NON_COMPUTE_PROVIDERS]
    missing = [p for p in KNOWN_PROVIDERS if p not in available] if include_missing else []
    ort = ["ort-cpu", "ort-cpu-noopt"]
    for p in compute + missing:  # as recommended, then as a user runs it by default (where they differ)
        ort += [provider_engine_name(p)] + ([provider_engine_name(p) + "-default"] if p in PROVIDER_OPTIONS else [])
    return [*ort, "onnx-reference", "openvino-f32", "openvino-default", "tract", "torch"]


def get_engine(name: str) -> Engine:
    """A fresh adapter for ``name`` (KeyError for an unknown name)."""
    fixed = {"onnx-reference": OnnxReferenceEngine, "tract": TractEngine, "torch": TorchEngine,
             "openvino-f32": lambda: OpenVinoEngine("openvino-f32", OPENVINO_F32),
             "openvino-default": lambda: OpenVinoEngine("openvino-default")}
    if name in fixed:
        return fixed[name]()
    if name == "ort-cpu-noopt":
        return OrtEngine(CPU, optimize=False)
    if name.startswith("ort-"):
        by_short = {provider_engine_name(p): p for p in _ort_providers()[0] + [CPU]}
        if name in by_short:
            return OrtEngine(by_short[name])
        base = name.removesuffix("-default")
        if base in by_short and by_short[base] in PROVIDER_OPTIONS:
            return OrtEngine(by_short[base], defaults=True)
    raise KeyError(f"unknown engine {name!r}; known: {', '.join(engine_names())}")


@dataclass
class EngineStatus:
    """An engine after ``probe_engines``: available (started on the model) or not checked, and why."""

    name: str
    available: bool
    reason: str = ""
    description: str = ""
    start_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    engine: Engine | None = field(default=None, repr=False)

    @property
    def state(self) -> str:
        return "available" if self.available else "not checked"


def _why(exc: BaseException) -> str:
    """The not-checked reason for an exception raised while starting an engine."""
    if isinstance(exc, NotChecked):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"not installed: {exc}"
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"session failed: {type(exc).__name__}: {first[:200]}"


def probe_engines(names: list[str | Engine], model_path: str | Path) -> dict[str, EngineStatus]:
    """Start each engine (a name, or an Engine instance) on ``model_path``; never raises."""
    out: dict[str, EngineStatus] = {}
    for item in names:
        t0 = time.perf_counter()
        try:
            eng = item if isinstance(item, Engine) else get_engine(item)
        except KeyError as exc:
            out[str(item)] = EngineStatus(str(item), False, str(exc.args[0]))
            continue
        try:
            eng.start(model_path)
        except Exception as exc:  # noqa: BLE001 - every start failure is reported, never raised
            out[eng.name] = EngineStatus(eng.name, False, _why(exc), eng.describe(), time.perf_counter() - t0,
                                         engine=eng)
            continue
        out[eng.name] = EngineStatus(eng.name, True, "", eng.describe(), time.perf_counter() - t0, dict(eng.info), eng)
    return out


def engine_table(model_path: str | Path, datasets: dict[str, np.ndarray], engines: list[str | Engine],
                 reference: str | Engine = "ort-cpu") -> list[dict[str, Any]]:
    """One row per engine and dataset: ``compare`` vs ``reference`` plus start/run times, or a
    not-checked row with the reason (the engine, or the reference, could not start or run)."""
    ref_status = next(iter(probe_engines([reference], model_path).values()))
    statuses = probe_engines([e for e in engines if e != reference], model_path)
    ref_out: dict[str, np.ndarray] = {}
    if ref_status.available:
        try:
            ref_out = {k: ref_status.engine.run(model_path, x) for k, x in datasets.items()}  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - then every row is not checked, with the reason
            ref_status.available, ref_status.reason = False, "run failed: " + _why(exc)
    rows = []
    for name, st in statuses.items():
        for k, x in datasets.items():
            eng = st.engine
            row: dict[str, Any] = {"engine": name, "dataset": k, "reference": ref_status.name,
                                   "description": st.description, "info": st.info, "start_s": st.start_s,
                                   "settings": eng.settings if eng else "", "fix": eng.fix if eng else "",
                                   "precision": eng.precision() if eng else ""}
            if not ref_status.available:
                row.update(status="not checked", reason=f"reference {ref_status.name}: {ref_status.reason}")
            elif not st.available:
                row.update(status="not checked", reason=st.reason)
            else:
                t0 = time.perf_counter()
                try:
                    got = st.engine.run(model_path, x)  # type: ignore[union-attr]
                except Exception as exc:  # noqa: BLE001 - a run failure is a not-checked row
                    row.update(status="not checked", reason="run failed: " + _why(exc).removeprefix("session failed: "))
                else:
                    row.update(status="compared", reason="", run_s=time.perf_counter() - t0, **compare(ref_out[k], got))
            rows.append(row)
    return rows


__all__ = ["CHUNK_ROWS", "F32", "OPENVINO_FIX", "Engine", "EngineStatus", "KNOWN_PROVIDERS", "NotChecked",
           "OnnxReferenceEngine", "OpenVinoEngine", "OrtEngine", "TorchEngine", "TractEngine", "compare",
           "engine_names", "engine_table", "get_engine", "probe_engines", "provider_engine_name"]
