"""Long-output family: copy and reverse of 25-55 names (answers of ~100-250 tokens).

Not a ParallelBench task (its Waiting Line answers fit in 32 tokens; the closest is the
n=15 variant). Added so that samplers and caches are exercised on outputs long enough
for several semi-AR blocks, with the same exact-match metric and list format as the short
ops. Prompts use the same instructions as the short ops (`copy: [...]`), since the
operation is the same; only the length differs. As in the short ops, first names within a
list are pairwise distinct and so are last names (25-55 of the pools' 60 each). Until
2026-11-24 long lists only had distinct full names, so a 55-name list repeated first names:
copying it then needed each item's position, not only its names, which our 2-layer models
did not learn (tiny-dream 0% on long_copy; the experiment log, `evals/tiny/EXPERIMENTS.md`, has both versions).

Token budget, measured: a byte-level BPE of vocab 1000 trained on `make_corpus(2000)`
learns every pool name as one token, so one item `"Amy Olsen", ` is 4 tokens
(`"`, `Amy`, ` Olsen`, `",`) and ~12.5 characters (~3.1 characters per token).
25-55 items therefore give answers of 100-220 tokens and prompt + answer of at most ~445
tokens, inside a 512-token context. (The brief suggested 20-50 names assuming ~5 tokens
per item; with 4 per item 20 names is only 80 tokens, hence 25-55.) A tokenizer that
splits names into two tokens gives ~5-6 tokens per item: lower `LONG_LENGTHS` then.
`ANSWER_CHARS` brackets the answer length in characters for 100-250 tokens at a loose
2.5-4 characters per token.
"""

from __future__ import annotations

from .list_ops import Copy, Reverse

LONG_LENGTHS: tuple[int, ...] = tuple(range(25, 56))
# Answer length in characters consistent with 100-250 tokens at 2.5-4 characters/token.
ANSWER_CHARS: tuple[int, int] = (int(100 * 2.5), 250 * 4)


class LongCopy(Copy):
    name = "long_copy"
    generation_length = 256
    lengths = LONG_LENGTHS


class LongReverse(Reverse):
    name = "long_reverse"
    generation_length = 256
    lengths = LONG_LENGTHS


LONG_TASKS = (LongCopy, LongReverse)
