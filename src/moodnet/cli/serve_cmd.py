"""``moodnet serve``: the web page and JSON API (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse
from typing import Any

from moodnet.cli import add_device_option

DESCRIPTION = """\
Serve the moodnet page (upload a song, paste lyrics, see it on the valence/arousal plane) and
the JSON API: POST /predict (multipart: audio file, optional lyrics text and segments seconds),
GET /health, GET /moods; OpenAPI docs at /docs. Valence and arousal are on the [-1, 1] scale.
The model is loaded once at startup.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve", help="web page and JSON API for predictions", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--model", metavar="NAME_OR_DIR",
                        help="shipped model name or training run directory (default: shipped)")
    add_device_option(parser)
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 inference: faster on CPUs with AMX / AVX-512 BF16, outputs within ~1%%",
    )
    parser.add_argument("--max-upload-mb", type=float, default=50.0, metavar="MB",
                        help="largest upload accepted (default: %(default)s MB)")
    parser.add_argument("--max-concurrent", type=int, default=4, metavar="N",
                        help="predictions running at once (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                        help="answer 504 when a prediction takes longer (default: %(default)s)")
    parser.set_defaults(func=run, usage_error=parser.error)
    return parser


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        args.usage_error(f"--port must be within 1-65535, got {args.port}")
    if not args.max_upload_mb > 0:
        args.usage_error(f"--max-upload-mb must be > 0, got {args.max_upload_mb}")
    if args.max_concurrent < 1:
        args.usage_error(f"--max-concurrent must be >= 1, got {args.max_concurrent}")
    if not args.timeout > 0:
        args.usage_error(f"--timeout must be > 0, got {args.timeout}")
    import uvicorn

    from moodnet.cli.predict_cmd import one_torch_thread
    from moodnet.predict import Predictor
    from moodnet.serve.app import LOOPBACK_HOSTS, create_app

    one_torch_thread()
    predictor = Predictor.load(args.model, device=args.device, bf16=args.bf16)
    loopback = args.host in LOOPBACK_HOSTS  # then only a loopback Host header (DNS rebinding)
    app = create_app(predictor, max_upload_mb=args.max_upload_mb,
                     max_concurrent=args.max_concurrent, timeout_s=args.timeout,
                     allowed_hosts=LOOPBACK_HOSTS if loopback else None)
    print(f"moodnet serve: model {predictor.source}; open http://{args.host}:{args.port}/",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
