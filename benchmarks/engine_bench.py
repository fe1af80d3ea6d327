"""Cost of tracing every layer vs a plain forward pass, per model and device.

``trace`` must stay cheap enough to run once per display frame, so it is measured
against the least a caller can do: numpy in → module → numpy out, single image. The two
are interleaved in one loop so the machine's noise hits both alike, and the figure
that matters is the ratio of medians (target: trace ≤ 1.2× plain forward).

    python benchmarks/engine_bench.py [--runs 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import available_devices, list_models, load_model
from engine.lecture.pictures import SEED_X


def sample_drawing(model_name: str) -> np.ndarray:
    """A drawing each model understands: the lecture's X, blown up to canvas size."""
    return np.kron((SEED_X + 1) / 2, np.ones((40, 40), np.float32))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(name: str, device: str, runs: int) -> dict[str, float]:
    m = load_model(name, device=device)
    x = m.preprocess(sample_drawing(name))
    batch = np.ascontiguousarray(x[None])

    def plain() -> np.ndarray:
        with torch.inference_mode():
            out = m.module(torch.from_numpy(batch).to(m.device))
            return out.cpu().numpy()

    def traced() -> np.ndarray:
        return m.trace(x).probabilities

    for _ in range(30):  # warm-up: allocator, kernels, caches
        plain()
        traced()
    t_plain, t_trace = [], []
    for _ in range(runs):
        for fn, sink in ((plain, t_plain), (traced, t_trace)):
            _sync(m.device)
            t0 = time.perf_counter()
            fn()
            _sync(m.device)
            sink.append((time.perf_counter() - t0) * 1000)
    p = np.percentile
    return {
        "model": name,
        "device": str(m.device),
        "plain_p50_ms": float(p(t_plain, 50)),
        "plain_p95_ms": float(p(t_plain, 95)),
        "trace_p50_ms": float(p(t_trace, 50)),
        "trace_p95_ms": float(p(t_trace, 95)),
        "ratio_p50": float(p(t_trace, 50) / p(t_plain, 50)),
        "ratio_p95": float(p(t_trace, 95) / p(t_plain, 95)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--json", action="store_true", help="last line: one JSON list of results")
    args = ap.parse_args()
    results = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"{'model':8} {'device':8} {'plain p50':>10} {'p95':>8} {'trace p50':>10} {'p95':>8} "
        f"{'ratio p50':>10} {'p95':>6}"
    )
    for device in available_devices():
        for name in list_models():
            r = measure(name, device, args.runs)
            results.append(r)
            print(
                f"{name:8} {r['device']:8} {r['plain_p50_ms']:9.3f}ms {r['plain_p95_ms']:7.3f}ms "
                f"{r['trace_p50_ms']:9.3f}ms {r['trace_p95_ms']:7.3f}ms "
                f"{r['ratio_p50']:9.2f}× {r['ratio_p95']:5.2f}×"
            )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
