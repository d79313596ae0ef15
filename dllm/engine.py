"""The denoising loop: the one place where a canvas becomes text.

prepare canvas -> for each block: plan its extent -> forward -> sampler decides commits -> write
-> stop at EOS.

The block plan is the fixed semi-AR grid unless the sampler plans blocks itself
(``Sampler.plans_blocks``, AdaBlock): then each row gets its own block end, chosen from a
look-ahead forward that also serves as the block's first step. Rows move block by block
together; a row whose block is full waits (without forwards) for the others.

Batches are left-padded with an attention mask, so every row's generation region starts
at the same column and blocks line up across rows. Rows leave the forward batch as soon
as their block is full or they have finished, so a batch decodes like its rows alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator

import torch

from dllm.cache import NoCache, make_cache
from dllm.config import GenerationConfig
from dllm.errors import ConfigError
from dllm.models import prediction_offset
from dllm.models.layers import positions_from_mask
from dllm.models.tokens import SpecialTokens
from dllm.samplers.base import BlockProbe, Sampler, StepInput


@dataclass(slots=True)
class StepState:
    """The state after one denoising step (one forward of the rows in ``rows``).

    Tensors cover the generation region ``[B, max_new_tokens]`` and are live views of
    the canvas: clone them to keep a history. ``confidence`` is NaN where nothing was
    scored this step. ``nfe`` counts each row's forward passes so far, ``full_nfe`` those
    that fed the whole canvas (all of them without a cache; the refreshes with one).
    """

    block: int
    step: int
    block_range: tuple[int, int]
    rows: torch.Tensor
    tokens: torch.Tensor
    committed: torch.Tensor
    confidence: torch.Tensor
    finished: torch.Tensor
    nfe: torch.Tensor
    steps: torch.Tensor
    full_nfe: torch.Tensor
    kv_cache_peak_bytes: int = 0  # stored K/V of the whole batch, at its largest so far


class Canvas:
    """Left-padded prompts followed by ``max_new_tokens`` masks, plus per-row bookkeeping."""

    def __init__(self, prompts: list[list[int]], gen_length: int, special: SpecialTokens, device) -> None:
        width = max(len(p) for p in prompts)
        self.prompt_width = width
        self.special = special
        ids = torch.full((len(prompts), width + gen_length), special.mask_id, dtype=torch.long)
        mask = torch.ones_like(ids)
        for r, p in enumerate(prompts):
            pad = width - len(p)
            ids[r, :pad] = special.pad_id
            mask[r, :pad] = 0
            ids[r, pad:width] = torch.tensor(p, dtype=torch.long)
        self.ids = ids.to(device)
        self.attention_mask = mask.to(device)
        self.first_real = torch.tensor([width - len(p) for p in prompts], device=device)
        self.finished = torch.zeros(len(prompts), dtype=torch.bool, device=device)
        self.nfe = torch.zeros(len(prompts), dtype=torch.long, device=device)
        self.full_nfe = torch.zeros_like(self.nfe)
        self.cache = NoCache()  # the generation's cache policy (per call: policies hold state)
        self.steps = torch.zeros(len(prompts), dtype=torch.long, device=device)

    @property
    def generation(self) -> torch.Tensor:
        return self.ids[:, self.prompt_width:]

    def rows_decoding(self, start: int, end: int, own: torch.Tensor) -> torch.Tensor:
        """Unfinished rows with a mask left inside their own block (``own`` marks it in [start, end))."""
        masked = (self.ids[:, start:end] == self.special.mask_id) & own
        return torch.nonzero(masked.any(-1) & ~self.finished).flatten()

    def finish_rows_that_stopped(self, lo: torch.Tensor, hi: torch.Tensor) -> None:
        """A finished block (generation columns ``[lo, hi)`` per row) holding a stop token
        ends its row: everything after the block becomes EOS."""
        stops = torch.tensor(self.special.stop_ids, device=self.ids.device)
        cols = torch.arange(self.generation.shape[1], device=self.ids.device)[None]
        in_block = (cols >= lo[:, None]) & (cols < hi[:, None])
        stopped = (torch.isin(self.generation, stops) & in_block).any(-1) & ~self.finished
        after = stopped[:, None] & (cols >= hi[:, None])
        self.generation[after] = self.special.eos_id
        self.finished |= stopped


class DenoisingEngine:
    """Runs samplers over a model's canvas; models only compute logits."""

    def __init__(self, model: torch.nn.Module, special: SpecialTokens) -> None:
        self.model = model
        self.special = special
        self.offset = prediction_offset(model)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def denoise(self, prompts: list[list[int]], config: GenerationConfig, sampler: Sampler) -> Iterator[StepState]:
        """Yield a ``StepState`` after every step; ``config`` must be resolved."""
        canvas = Canvas(prompts, config.max_new_tokens, self.special, self.device)
        canvas.cache = make_cache(config.cache, **(config.cache_args or {}))
        if sampler.cfg_scale > 0 and config.cache != "none":
            raise ConfigError(f"cache={config.cache!r} does not support classifier-free guidance yet; use cache='none'")
        generator = None
        if config.seed is not None:
            generator = torch.Generator(self.device).manual_seed(config.seed)
        schedule = config.steps_per_block()
        planned = torch.zeros(len(prompts), dtype=torch.long, device=self.device)  # generation columns given to blocks
        for block in itertools.count():
            rows = torch.nonzero(~canvas.finished & (planned < config.max_new_tokens)).flatten()
            if rows.numel() == 0:
                break
            lo = planned.clone()
            probe = self._plan_block(canvas, rows, planned, config, sampler, generator)
            steps = schedule[block] if not sampler.plans_blocks else int((planned - lo).max())
            yield from self._decode_block(canvas, lo, planned, block, steps, config, sampler, generator, probe)
            if config.early_stop:
                canvas.finish_rows_that_stopped(lo, planned)

    def _plan_block(self, canvas, rows, planned, config, sampler, generator) -> torch.Tensor | None:
        """Set ``planned[rows]`` to the end of each row's next block: the fixed grid, or the
        sampler's ``plan_block`` hook (AdaBlock) fed by a forward over a look-ahead window,
        whose logits are returned so the block's first step reuses them."""
        remaining = config.max_new_tokens - planned[rows]
        if not sampler.plans_blocks:
            planned[rows] += remaining.clamp(max=config.block_length)
            return None
        width = int(min(max(sampler.lookahead(config.max_new_tokens), config.block_length), int(remaining.max())))
        start = canvas.prompt_width + int(planned[rows].min())
        end = min(canvas.prompt_width + int(planned[rows].max()) + width, canvas.ids.shape[1])
        logits = self._forward(canvas, rows, start, end, sampler.cfg_scale, step=0)
        offsets = planned[rows] - int(planned[rows].min())
        window = torch.arange(width, device=self.device)[None] + offsets[:, None]
        valid = window < (end - start)
        gathered = logits.gather(1, window.clamp(max=end - start - 1)[..., None].expand(-1, -1, logits.shape[-1]))
        probe = BlockProbe(logits=gathered, valid=valid & (torch.arange(width, device=self.device)[None] < remaining[:, None]),
                           remaining=remaining, gen_length=config.max_new_tokens,
                           default_length=config.block_length, delimiter_ids=self.special.newline_ids,
                           temperature=config.temperature, generator=generator, shifted=self.offset > 0)
        lengths = sampler.plan_block(probe).clamp(min=1, max=width).minimum(remaining)
        planned[rows] += lengths
        return logits

    def _decode_block(self, canvas, lo, hi, block, steps, config, sampler, generator, probe) -> Iterator[StepState]:
        """Steps until every row's block ``[lo, hi)`` (generation columns, per row) is full."""
        start = canvas.prompt_width + int(lo[~canvas.finished & (hi > lo)].min())
        end = canvas.prompt_width + int(hi.max())
        cols = torch.arange(start, end, device=self.device)[None] - canvas.prompt_width
        own = (cols >= lo[:, None]) & (cols < hi[:, None])  # each row's block inside the shared window
        state: dict = {}
        for step in itertools.count():
            rows = canvas.rows_decoding(start, end, own)
            if rows.numel() == 0:
                return
            if step == 0 and probe is not None:
                logits = probe[:, : end - start]  # the look-ahead forward is this step's forward
            else:
                logits = self._forward(canvas, rows, start, end, sampler.cfg_scale, step)
            inp = self._step_input(canvas, rows, own[rows], logits, start, end, block, step, steps, config, generator, state)
            if step == 0:
                sampler.start_block(inp)
            yield self._apply(canvas, inp, sampler.step(inp), start, end, steps)

    def _forward(self, canvas: Canvas, rows: torch.Tensor, start: int, end: int, cfg_scale: float, step: int) -> torch.Tensor:
        """One counted forward for ``rows``, through the generation's cache policy."""
        cost = 2 if cfg_scale > 0 else 1
        canvas.nfe[rows] += cost
        logits = canvas.cache.logits(self, canvas, rows, start, end, step, cfg_scale)
        if canvas.cache.last_forward_full:
            canvas.full_nfe[rows] += cost
        return logits

    def _step_input(self, canvas, rows, own, logits, start, end, block, step, steps, config, generator, state) -> StepInput:
        canvas.steps[rows] += 1
        tokens = canvas.ids[rows, start:end]
        return StepInput(
            logits=logits, tokens=tokens, masked=(tokens == self.special.mask_id) & own, rows=rows,
            step=step, steps=steps, block=block, temperature=config.temperature, top_p=config.top_p,
            top_k=config.top_k, stop_ids=self.special.stop_ids, generator=generator, state=state,
        )

    def model_inputs(self, canvas: Canvas, rows: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(left, ids, mask, positions) of the rows' canvas from column ``left`` on, dropping
        padding columns no active row needs; ``mask``/``positions`` are None without padding."""
        left = int(canvas.first_real[rows].min())
        ids = canvas.ids[rows, left:]
        mask = canvas.attention_mask[rows, left:]
        mask = None if bool(mask.all()) else mask
        # Positions count from each row's first real token (Dream's generate; for LLaDA a
        # rounding-only change, RoPE being relative) so a padded row sees what it sees alone.
        positions = None if mask is None else positions_from_mask(mask)
        return left, ids, mask, positions

    def select(self, logits: torch.Tensor, first: int, start: int, end: int) -> torch.Tensor:
        """Rows of ``logits`` (whose row 0 is canvas column ``first``) that score ``[start, end)``,
        as float32 with the mask token at -inf."""
        lo, hi = start - first - self.offset, end - first - self.offset
        out = logits[:, lo:hi].float()
        out[..., self.special.mask_id] = float("-inf")
        return out

    def block_logits(self, canvas: Canvas, rows: torch.Tensor, start: int, end: int, cfg_scale: float) -> torch.Tensor:
        """float32 logits ``[R, end-start, V]`` where row i predicts position start+i (full forward)."""
        left, ids, mask, positions = self.model_inputs(canvas, rows)
        if cfg_scale > 0:
            logits = self._guided_logits(ids, mask, positions, canvas.prompt_width - left, cfg_scale)
        else:
            logits = self.model(ids, attention_mask=mask, position_ids=positions)
        return self.select(logits, left, start, end)

    def _guided_logits(self, ids, mask, positions, prompt_end: int, scale: float) -> torch.Tensor:
        """LLaDA's classifier-free guidance: the prompt masked out gives the unconditional pass."""
        uncond = ids.clone()
        prompt = uncond[:, :prompt_end]
        real = prompt != self.special.pad_id if mask is None else mask[:, :prompt_end].bool()
        prompt[real] = self.special.mask_id
        twice = (lambda t: None if t is None else torch.cat([t, t]))
        cond, un = self.model(torch.cat([ids, uncond]), attention_mask=twice(mask), position_ids=twice(positions)).chunk(2)
        return un + (scale + 1) * (cond - un)

    def _apply(self, canvas: Canvas, inp: StepInput, decision, start: int, end: int, steps: int) -> StepState:
        commit = decision.commit & inp.masked  # never touch prompt or committed tokens
        if inp.step >= steps and not bool(commit.any()):
            raise RuntimeError(f"sampler made no progress after its {steps}-step budget in block {inp.block}")
        canvas.ids[inp.rows, start:end] = torch.where(commit, decision.tokens, inp.tokens)
        width = canvas.generation.shape[1]
        g0, g1 = start - canvas.prompt_width, end - canvas.prompt_width
        committed = torch.zeros(canvas.ids.shape[0], width, dtype=torch.bool, device=canvas.ids.device)
        committed[inp.rows, g0:g1] = commit
        confidence = torch.full(committed.shape, float("nan"), device=canvas.ids.device)
        confidence[inp.rows, g0:g1] = decision.confidence.float()
        return StepState(
            block=inp.block, step=inp.step, block_range=(g0, g1), rows=inp.rows, tokens=canvas.generation,
            committed=committed, confidence=confidence, finished=canvas.finished, nfe=canvas.nfe, steps=canvas.steps,
            full_nfe=canvas.full_nfe, kv_cache_peak_bytes=canvas.cache.peak_bytes,
        )
