"""A final cut's sound, built sample-exactly on the timeline before it is encoded.

Every clip's sound is decoded, resampled to one format (48 kHz stereo, float) and
placed at the sample where its clip starts on the timeline, trimmed or padded with
silence to its clip's exact length; a clip without sound is silence. So the audio
covers the whole video and each join is in sync to the sample, whatever the files'
own audio lengths or encoder delays. At every hard cut each side gets a few
milliseconds of ramp, so the step between two waveforms is not heard as a click;
crossfades and fades ramp over their length. A music bed is looped to the runtime,
set to its level, faded out at the end and mixed under the clips (libavfilter's
``volume`` and ``amix``: the long additions run in C, not in Python).
"""

from __future__ import annotations

import queue
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.errors import MediaError
from storyboard.media import load
from storyboard.media.timeline import Timeline, Transition
from storyboard.model import CROSSFADE, CUT, FADE

SAMPLE_RATE = 48_000
CHANNELS = 2
BYTES_PER_SAMPLE = 4 * CHANNELS  # 32-bit float, interleaved ("flt")
DECLICK_SECONDS = Fraction(5, 1000)  # ramp at a hard cut: inaudible as a gap, kills the click
MUSIC_FADE_SECONDS = Fraction(1)
FRAME_SAMPLES = 1024  # one AAC frame


@dataclass(slots=True)
class Sound:
    """PCM of the whole cut: float interleaved stereo at ``SAMPLE_RATE``; the first
    ``ready`` samples are final."""

    pcm: bytearray
    ready: int = 0

    @property
    def samples(self) -> int:
        return len(self.pcm) // BYTES_PER_SAMPLE

    def frames(self, start: int, stop: int, size: int = SAMPLE_RATE) -> Iterator[Any]:
        """``av.AudioFrame``s of at most ``size`` samples for samples [start, stop)."""
        av = load("av")
        for at in range(start, min(stop, self.samples), size):
            n = min(size, stop - at, self.samples - at)
            frame = av.AudioFrame(format="flt", layout="stereo", samples=n)
            frame.planes[0].update(bytes(self.pcm[at * BYTES_PER_SAMPLE:
                                                  (at + n) * BYTES_PER_SAMPLE]))
            frame.sample_rate = SAMPLE_RATE
            frame.pts = at
            frame.time_base = Fraction(1, SAMPLE_RATE)
            yield frame


def sample_at(seconds: Fraction) -> int:
    return round(seconds * SAMPLE_RATE)


def build_sound(timeline: Timeline, files: dict[str, Path], sounding: set[str],
                music: Path | None, music_db: Decimal,
                progress: Callable[[Sound], None] = lambda sound: None) -> Sound | None:
    """The cut's sound on the measured ``timeline``; None when nothing in it has any.

    ``sounding`` names the parts (by generation id) whose files carry an audio track.
    ``progress`` is told each time more of the sound is final (``Sound.ready``), so it
    can be encoded while the rest is still being decoded.
    """
    if not sounding and music is None:
        return None
    sound = Sound(bytearray(sample_at(timeline.runtime) * BYTES_PER_SAMPLE))
    spans = timeline.spans
    for n, span in enumerate(spans):
        into = span.transition
        out = spans[n + 1].transition if n + 1 < len(spans) else Transition()
        offset = span.start
        for k, part in enumerate(span.parts):
            start, stop = sample_at(offset), sample_at(offset + part.seconds)
            offset += part.seconds
            if part.generation not in sounding:
                continue  # silence: the buffer is zeros
            head = _ramp(into) if k == 0 else sample_at(DECLICK_SECONDS)
            tail = _ramp(out) if k == len(span.parts) - 1 else sample_at(DECLICK_SECONDS)
            clip = _decoded(files[part.generation], stop - start)
            _place(sound.pcm, clip, start, head, tail)
        if music is None and n + 1 < len(spans):  # nothing later reaches before the next clip
            sound.ready = sample_at(spans[n + 1].start)
            progress(sound)
    if music is not None:
        sound.pcm[:] = _with_music(sound.pcm, music, music_db)
    sound.ready = sound.samples
    progress(sound)
    return sound


def _ramp(transition: Transition) -> int:
    """Samples of fade-in (or out) this transition gives the clip's sound."""
    if transition.kind == CROSSFADE:
        return sample_at(transition.seconds)
    if transition.kind == FADE:
        return sample_at(transition.seconds / 2)
    assert transition.kind == CUT
    return sample_at(DECLICK_SECONDS)


def decode_pcm(path: Path, limit: int | None = None) -> bytes:
    """A file's first audio track as float stereo 48 kHz PCM (``limit`` samples at most).

    Float, not 16-bit: no rounding noise is added for the AAC encoder to spend bits on."""
    av = load("av")
    resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
    chunks: list[bytes] = []
    got = 0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return b""
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(bytes(out.planes[0])[:out.samples * BYTES_PER_SAMPLE])
                got += out.samples
            if limit is not None and got >= limit:
                break
        else:
            for out in resampler.resample(None):
                chunks.append(bytes(out.planes[0])[:out.samples * BYTES_PER_SAMPLE])
    return b"".join(chunks)


def _decoded(path: Path, samples: int) -> bytes:
    """Exactly ``samples`` of the file's sound: trimmed, or padded with silence."""
    pcm = decode_pcm(path, samples)[:samples * BYTES_PER_SAMPLE]
    return pcm + bytes(samples * BYTES_PER_SAMPLE - len(pcm))


def _place(pcm: bytearray, clip: bytes, start: int, head: int, tail: int) -> None:
    """Add ``clip`` into ``pcm`` at ``start`` with linear ramps over its first ``head`` and
    last ``tail`` samples (where a crossfade's other side may already be)."""
    count = len(clip) // BYTES_PER_SAMPLE
    head, tail = min(head, count), min(tail, count - min(head, count))
    a, b = (start + head) * BYTES_PER_SAMPLE, (start + count - tail) * BYTES_PER_SAMPLE
    pcm[a:b] = clip[head * BYTES_PER_SAMPLE:(count - tail) * BYTES_PER_SAMPLE]
    _ramp_into(pcm, clip, start, 0, head, lambda i: (i + 0.5) / head)
    _ramp_into(pcm, clip, start, count - tail, count, lambda i: (count - i - 0.5) / tail)


def _ramp_into(pcm: bytearray, clip: bytes, start: int, first: int, stop: int,
               gain: Callable[[int], float]) -> None:
    """Add samples [first, stop) of ``clip``, each times ``gain(i)``, into ``pcm``."""
    if stop <= first:
        return
    target = memoryview(pcm).cast("f")
    source = memoryview(clip).cast("f")
    lo, hi = (start + first) * CHANNELS, (start + stop) * CHANNELS
    gains = [gain(i) for i in range(first, stop) for _ in range(CHANNELS)]
    mixed = [t + s * g for t, s, g in zip(target[lo:hi].tolist(),
                                          source[first * CHANNELS:stop * CHANNELS].tolist(),
                                          gains, strict=True)]
    target[lo:hi] = array("f", mixed)


def _with_music(pcm: bytearray, music: Path, db: Decimal) -> bytearray:
    av = load("av")
    total = len(pcm) // BYTES_PER_SAMPLE
    bed = decode_pcm(music)
    if not bed:
        raise MediaError(f"music file {music} has no sound to use")
    looped = bytearray((bed * (total * BYTES_PER_SAMPLE // len(bed) + 1))[:len(pcm)])
    fade = min(sample_at(MUSIC_FADE_SECONDS), total)
    target = memoryview(looped).cast("f")
    for j in range(fade):  # fade the bed out over the last second
        at = (total - fade + j) * CHANNELS
        gain = (fade - j - 0.5) / fade
        for c in range(CHANNELS):
            target[at + c] = target[at + c] * gain
    graph = av.filter.Graph()
    clips, bed_src = (graph.add_abuffer(format="flt", sample_rate=SAMPLE_RATE,
                                        layout="stereo", time_base=Fraction(1, SAMPLE_RATE))
                      for _ in range(2))
    volume = graph.add("volume", f"{float(db)}dB")
    mix = graph.add("amix", "inputs=2:duration=first:normalize=0")
    fmt = graph.add("aformat", "sample_fmts=flt:channel_layouts=stereo")
    sink = graph.add("abuffersink")
    clips.link_to(mix, 0, 0)
    bed_src.link_to(volume)
    volume.link_to(mix, 0, 1)
    mix.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    out = bytearray()
    for ours, theirs in zip(Sound(pcm).frames(0, total), Sound(looped).frames(0, total),
                            strict=True):
        clips.push(ours)
        bed_src.push(theirs)
        out += _drain(sink, av)
    clips.push(None)
    bed_src.push(None)
    out += _drain(sink, av)
    return (out + bytes(len(pcm)))[:len(pcm)]


def _drain(sink: Any, av: Any) -> bytes:
    got = bytearray()
    while True:
        try:
            frame = sink.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return bytes(got)
        got += bytes(frame.planes[0])[:frame.samples * BYTES_PER_SAMPLE]


_DONE = object()


class SoundWriter:
    """Builds the cut's sound on one worker thread and encodes it on another while the
    picture is copied or encoded on the caller's (PyAV releases the GIL inside the
    codecs); the sound is encoded as soon as each clip's part of it is final, and its
    packets are muxed in time order between the picture's. So the file interleaves and
    a cut with sound takes about as long as its picture."""

    def __init__(self, output: Any, stream: Any,
                 build: Callable[[Callable[[Sound], None]], Sound | None]) -> None:
        self.output, self.stream = output, stream
        self.packets: queue.Queue[Any] = queue.Queue()
        self.waiting: Any = None
        self.failure: BaseException | None = None
        self.stopping = threading.Event()
        self.changed = threading.Condition()
        self.sound: Sound | None = None
        self.built = False
        self.workers = [threading.Thread(target=self._build, args=(build,), daemon=True),
                        threading.Thread(target=self._encode, daemon=True)]
        if stream is not None:
            stream.codec_context.open()  # here: the muxer would open it from this thread
            for worker in self.workers:
                worker.start()

    def __enter__(self) -> SoundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the workers before the output they encode for is closed."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        for worker in self.workers:
            if worker.is_alive():
                worker.join()

    def _build(self, build: Callable[[Callable[[Sound], None]], Sound | None]) -> None:
        try:
            build(self._progress)
        except BaseException as exc:  # handed to the muxing thread, which raises it
            self.failure = exc
        finally:
            with self.changed:
                self.built = True
                self.changed.notify_all()

    def _progress(self, sound: Sound) -> None:
        with self.changed:
            self.sound = sound
            self.changed.notify_all()
        if self.stopping.is_set():
            raise InterruptedError("stopped")

    def _encode(self) -> None:
        av = load("av")
        # the encoder's own format and frame size, made in C from one-second chunks
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE,
                                      frame_size=FRAME_SAMPLES)
        try:
            done = 0
            while True:
                with self.changed:
                    while not (self.built or self.stopping.is_set() or (
                            self.sound is not None and self.sound.ready > done)):
                        self.changed.wait()
                    sound, built = self.sound, self.built
                if self.stopping.is_set() or sound is None:
                    return
                ready = sound.ready
                for chunk in sound.frames(done, ready):
                    self._put(resampler.resample(chunk))
                done = ready
                if built and done >= sound.samples:
                    self._put(resampler.resample(None))
                    self._put([None])
                    return
        except BaseException as exc:
            self.failure = self.failure or exc
        finally:
            self.packets.put(_DONE)

    def _put(self, frames: Iterable[Any]) -> None:
        for frame in frames:
            for packet in self.stream.encode(frame):
                self.packets.put(packet)

    def until(self, seconds: Fraction | None) -> None:
        """Mux the sound's packets that start before ``seconds`` (None: all of them)."""
        if self.stream is None:
            return
        while True:
            packet = self.waiting if self.waiting is not None else self.packets.get()
            self.waiting = None
            if packet is _DONE:
                self.waiting = _DONE
                break
            if seconds is not None and packet.pts * packet.time_base >= seconds:
                self.waiting = packet
                return
            self.output.mux(packet)
        for worker in self.workers:
            worker.join()
        if self.failure is not None:
            raise self.failure
