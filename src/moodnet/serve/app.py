"""The web service: a FastAPI app over one :class:`~moodnet.predict.Predictor`.

``POST /predict`` takes a multipart upload (``audio`` file, optional ``lyrics`` text and
``segments`` seconds) and answers the prediction as JSON with the field names of
:meth:`moodnet.predict.Prediction.to_dict` (``path`` is the uploaded file's name); ``GET /``
is a page that uploads songs and draws them on the valence/arousal plane and over time;
``GET /health`` describes the model; ``GET /moods`` lists the mood words of the plane; the
OpenAPI description is at ``/openapi.json``.

Every error is JSON ``{"error": ..., "detail": ...}``: 413 for an upload over the size limit,
415 for a file type that is not audio, 422 for a file that does not decode or a bad field.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from moodnet.core import DEFAULT_DEVICE, QUADRANT_RULE, QUADRANTS, quadrant_caption
from moodnet.errors import AudioError, LyricsError, MoodnetError, ParameterError
from moodnet.version import __version__

if TYPE_CHECKING:
    from moodnet.predict import Predictor

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_BODY_TIMEOUT_S = 60.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_LYRICS_CHARS = 100_000
_CAPTIONS_SLOT = "/* QUADRANT_CAPTIONS */ {}"
_DRAIN_CAP_BYTES = 1 << 30


class SegmentOut(BaseModel):
    start_s: float
    end_s: float
    valence: float
    arousal: float


class PredictionOut(BaseModel):
    """A prediction; valence and arousal on the [-1, 1] scale (0 = neutral)."""

    path: str = Field(description="the uploaded file's name (never a server path)")
    valence: float = Field(description="[-1, 1]: negative .. positive")
    arousal: float = Field(description="[-1, 1]: calm .. energetic")
    quadrant: str = Field(description=QUADRANT_RULE)
    class_probs: dict[str, float]
    mood_words: list[str] = Field(description="3 nearest of Russell's (1980) 28 affect words")
    used_lyrics: bool
    lyrics_note: str = Field("", description="why given lyrics were not used (else empty)")
    segments: list[SegmentOut]
    model_id: str = Field(description="the id of the model that made the prediction")
    analysed_s: float = Field(description="seconds of audio analysed, from the start")


class ErrorOut(BaseModel):
    error: str
    detail: Any = None


class MoodWordOut(BaseModel):
    word: str
    valence: float
    arousal: float
    label_level: int = Field(description="0, 1, ...: push the label out to avoid overlaps")


class ApiError(Exception):
    """An error answered as ``{"error": error, "detail": detail}`` with ``status``."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail


def create_app(
    predictor: Predictor | None = None,
    *,
    model: str | Path | None = None,
    device: str = DEFAULT_DEVICE,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    max_concurrent: int = 4,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """Build the app.

    Parameters
    ----------
    predictor : a loaded predictor; None loads ``model`` once at startup
    model : shipped model name or run directory, used when ``predictor`` is None
    device : device of the model loaded at startup
    max_upload_mb : largest accepted upload in MB (10**6 bytes); larger ones get 413
    max_concurrent : predictions running at once; more requests wait for a slot
    timeout_s : a prediction (waiting included) that takes longer is answered 504; the
        request's worker thread is abandoned and frees its slot when it ends
    body_timeout_s : a request body (an upload) not received whole within this many seconds
        is answered 408 and the connection closed (a 1 byte/s client cannot hold a slot)
    allowed_hosts : accepted ``Host`` header values (``TrustedHostMiddleware``; 400 for
        others), e.g. :data:`LOOPBACK_HOSTS` when bound to loopback; None accepts any

    Returns
    -------
    app : FastAPI
    """
    if not max_upload_mb > 0:
        raise ParameterError(f"max_upload_mb must be > 0, got {max_upload_mb}")
    if max_concurrent < 1:
        raise ParameterError(f"max_concurrent must be >= 1, got {max_concurrent}")
    if not timeout_s > 0:
        raise ParameterError(f"timeout_s must be > 0, got {timeout_s}")
    if not body_timeout_s > 0:
        raise ParameterError(f"body_timeout_s must be > 0, got {body_timeout_s}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from moodnet.predict import Predictor

        if predictor is None:
            loader = functools.partial(Predictor.load, model, device=device)
            app.state.predictor = await run_in_threadpool(loader)
        else:
            app.state.predictor = predictor
        app.state.limiter = anyio.CapacityLimiter(max_concurrent)
        app.state.timeout_s = timeout_s
        yield

    app = FastAPI(
        title="moodnet",
        version=__version__,
        summary="Music mood on the valence/arousal plane from audio and lyrics.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its script from a CDN: offline, /openapi.json only
        redoc_url=None,
    )
    app.add_middleware(UploadLimit, max_bytes=int(max_upload_mb * 1_000_000),
                       body_timeout_s=body_timeout_s)
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    _add_error_handlers(app)
    _add_routes(app)
    return app


def _add_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_index_page())

    @app.get("/health")
    def health(request: Request) -> dict[str, Any]:
        """Liveness and a description of the loaded model."""
        predictor: Predictor = request.app.state.predictor
        model = predictor.describe()
        model["source"] = Path(str(model.get("source", ""))).name  # the name, not a server path
        return {"status": "ok", "version": __version__, "model": model}

    @app.get("/moods", response_model=list[MoodWordOut])
    def moods(request: Request) -> list[dict[str, Any]]:
        """Russell's (1980) 28 affect words on the VA plane, where the model places them."""
        from moodnet.predict.moods import label_levels, mood_words

        levels = label_levels()
        placements = request.app.state.predictor.mood_word_placements
        return [{"word": m.word, "valence": m.valence, "arousal": m.arousal,
                 "label_level": levels[m.word]} for m in mood_words(placements)]

    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorOut} for status in (413, 415, 422, 504)
    }

    @app.post("/predict", response_model=PredictionOut, responses=errors)
    async def predict(
        request: Request,
        audio: Annotated[UploadFile, File(description="an audio file (mp3, wav, flac, ...)")],
        lyrics: Annotated[str | None, Form(description="the song's lyrics, plain text")] = None,
        segments: Annotated[
            float | None, Form(description="also give VA for every SECONDS stretch (>= 1)")
        ] = None,
    ) -> dict[str, Any]:
        """Predict the mood of an uploaded song (and its lyrics)."""
        predictor: Predictor = request.app.state.predictor
        filename = Path(audio.filename or "upload").name
        _check_request(filename, lyrics, segments)
        with tempfile.TemporaryDirectory(prefix="moodnet-upload-") as folder:
            path = Path(folder) / f"audio{Path(filename).suffix.lower()}"
            size = await run_in_threadpool(_save_upload, audio, path)
            if size == 0:
                raise ApiError(422, "empty file", f"{filename} has 0 bytes")
            job = functools.partial(
                _predict_upload, predictor, path, filename=filename, folder=folder,
                lyrics=lyrics if lyrics and lyrics.strip() else None, segments=segments,
            )
            return await _run_with_timeout(job, request.app.state.limiter,
                                           request.app.state.timeout_s)

    _lyrics_routes(app, errors)


def _lyrics_routes(app: FastAPI, errors: dict[int | str, dict[str, Any]]) -> None:
    @app.post("/predict/lyrics", response_model=PredictionOut, responses=errors)
    async def predict_lyrics(
        request: Request,
        lyrics: Annotated[str, Form(description="the song's lyrics, plain text")],
    ) -> dict[str, Any]:
        """Predict the mood of a song from its lyrics alone."""
        predictor: Predictor = request.app.state.predictor
        _check_request("", lyrics, None)

        def job() -> dict[str, Any]:
            try:
                return predictor.predict_lyrics(lyrics, name="<lyrics>").to_dict()
            except LyricsError as exc:
                raise ApiError(422, "lyrics not usable", exc.problem) from None

        return await _run_with_timeout(job, request.app.state.limiter,
                                       request.app.state.timeout_s)


def _index_page() -> str:
    """The web page, with the quadrant captions of :mod:`moodnet.core` filled in."""
    import json

    page = files("moodnet.serve").joinpath("static/index.html").read_text(encoding="utf-8")
    if _CAPTIONS_SLOT not in page:
        raise RuntimeError(f"static/index.html: no {_CAPTIONS_SLOT} slot (a broken install?)")
    captions = {name: quadrant_caption(name) for name in QUADRANTS}
    return page.replace(_CAPTIONS_SLOT, json.dumps(captions), 1)


def _check_request(filename: str, lyrics: str | None, segments: float | None) -> None:
    from moodnet.core import AUDIO_EXTENSIONS
    from moodnet.predict.predictor import MIN_SEGMENT_S

    suffix = Path(filename).suffix.lower()
    if suffix and suffix not in AUDIO_EXTENSIONS:
        raise ApiError(415, "unsupported file type",
                       f"{filename}: expected one of {', '.join(sorted(AUDIO_EXTENSIONS))}")
    if segments is not None and not segments >= MIN_SEGMENT_S:
        raise ApiError(422, "invalid segments", f"segments must be >= {MIN_SEGMENT_S} s")
    if lyrics is not None and len(lyrics) > MAX_LYRICS_CHARS:
        raise ApiError(422, "lyrics too long", f"more than {MAX_LYRICS_CHARS} characters")


async def _run_with_timeout(
    job: Callable[[], dict[str, Any]], limiter: anyio.CapacityLimiter, timeout_s: float,
) -> dict[str, Any]:
    result = None
    with anyio.move_on_after(timeout_s):
        result = await anyio.to_thread.run_sync(job, limiter=limiter, abandon_on_cancel=True)
    if result is None:
        raise ApiError(504, "prediction timed out", f"took longer than {timeout_s:g} s")
    return result


def _save_upload(audio: UploadFile, path: Path) -> int:
    audio.file.seek(0)
    with path.open("wb") as handle:
        shutil.copyfileobj(audio.file, handle, length=1 << 20)
        return handle.tell()


def _predict_upload(
    predictor: Predictor, path: Path, *, filename: str, folder: str, lyrics: str | None,
    segments: float | None,
) -> dict[str, Any]:
    def scrub(text: str) -> str:  # no server path (the temporary upload folder) in answers
        return text.replace(str(path), filename).replace(folder, "<upload>")

    try:
        prediction = predictor.predict(path, lyrics=lyrics, segments=segments)
    except AudioError as exc:
        raise ApiError(422, "audio could not be decoded",
                       f"{filename}: {scrub(exc.problem)}") from None
    except LyricsError as exc:
        raise ApiError(422, "lyrics could not be read", scrub(exc.problem)) from None
    except MoodnetError as exc:
        raise ApiError(422, "invalid request", scrub(str(exc))) from None
    return {**prediction.to_dict(), "path": filename}  # the names of Prediction.to_dict()


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc.status, exc.error, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": ".".join(str(p) for p in error.get("loc", ())[1:]), "problem": error["msg"]}
            for error in exc.errors()
        ]
        return _error_response(422, "invalid request", detail)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        return _error_response(500, "internal error", type(exc).__name__)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, _http_error_name(exc.status_code), exc.detail)


def _http_error_name(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _error_response(status: int, error: str, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


class UploadLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` (413) or too slow (408).

    A declared ``Content-Length`` over the limit is refused before the app runs; a chunked
    body is counted as it arrives. The rest of the body is read and dropped (up to 1 GiB,
    within the deadline) before answering, so that the client, still sending, receives the
    413. A body not received whole within ``body_timeout_s`` is answered 408 and the
    connection closed.
    """

    def __init__(
        self, app: Callable[..., Awaitable[None]], *, max_bytes: int,
        body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.body_timeout_s
        timed_receive = functools.partial(_receive_before, receive, deadline)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._drain_and_refuse(timed_receive, send, 413)
            return
        state = {"received": 0, "refusal": 0, "more": True, "started": False}

        async def counted_receive() -> Message:
            try:
                message = await (timed_receive() if state["more"] else receive())
            except _TooSlow:
                state["refusal"] = 408
                raise
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                state["more"] = bool(message.get("more_body", False))
                if state["received"] > self.max_bytes:
                    state["refusal"] = 413
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["refusal"]:
                return
            state["started"] = True
            await send(message)

        with contextlib.suppress(_TooLarge, _TooSlow):
            await self.app(scope, counted_receive, guarded_send)
        if state["refusal"] and not state["started"]:
            drain = state["more"] and state["refusal"] == 413
            await self._drain_and_refuse(timed_receive if drain else None, send,
                                         int(state["refusal"]))

    async def _drain_and_refuse(
        self, receive: Receive | None, send: Send, status: int
    ) -> None:
        if receive is not None:
            try:
                await _drain(receive)
            except _TooSlow:
                status = 408
        if status == 413:
            content = {"error": "upload too large",
                       "detail": f"the limit is {self.max_bytes / 1_000_000:g} MB"}
        else:
            content = {"error": "request timeout",
                       "detail": f"the body was not received within {self.body_timeout_s:g} s"}
        body = JSONResponse(status_code=status, content=content, headers={"Connection": "close"})
        await send({"type": "http.response.start", "status": status,
                    "headers": body.raw_headers})
        await send({"type": "http.response.body", "body": body.body})


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def _receive_before(receive: Receive, deadline: float) -> Message:
    """``receive()``, or :class:`_TooSlow` when the body deadline passes first."""
    with anyio.move_on_after(max(deadline - anyio.current_time(), 0.0)):
        return await receive()
    raise _TooSlow


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive) -> None:
    seen = 0
    while seen < _DRAIN_CAP_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
