"""Name and word pools for the synthetic suite, written for dllm.

ParallelBench draws "First Last" names from LLM-generated lists of 92 first x 192 last
names that ship without a licence, so we do not reuse them. These pools are our own:
short, common, capitalised ASCII words so that a small byte-level BPE (vocab ~1000)
learns each one as one or two tokens. First and last pools do not overlap, so an output
that swaps first and last names across items (a known parallel-decoding failure mode) is
detectably wrong.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Abe", "Amy", "Ann", "Bea", "Ben", "Bo", "Cal", "Carl", "Cy", "Dan",
    "Dee", "Dora", "Eli", "Emma", "Eva", "Fay", "Finn", "Fred", "Gil", "Gus",
    "Gwen", "Hal", "Hans", "Hugo", "Ida", "Iris", "Ivy", "Jack", "Jane", "Jo",
    "Kai", "Kim", "Kurt", "Lena", "Leo", "Liv", "Max", "Mia", "Mona", "Ned",
    "Nia", "Nora", "Ola", "Omar", "Otto", "Pam", "Paul", "Pia", "Ray", "Rex",
    "Rosa", "Sam", "Seth", "Sue", "Tess", "Tina", "Tom", "Uma", "Vera", "Zoe",
)

LAST_NAMES: tuple[str, ...] = (
    "Ash", "Baker", "Banks", "Bell", "Burke", "Chen", "Cole", "Cruz", "Dale", "Diaz",
    "Dunn", "Ellis", "Ford", "Fox", "Frey", "Gale", "Gray", "Hale", "Hart", "Hill",
    "Hunt", "Kahn", "Kemp", "King", "Lang", "Lee", "Lowe", "Lyon", "Mann", "Marsh",
    "Moss", "Nash", "Noble", "Olsen", "Owen", "Park", "Penn", "Pike", "Pope", "Reed",
    "Rhee", "Rice", "Ross", "Rowe", "Sato", "Shaw", "Snow", "Stone", "Tate", "Todd",
    "Tran", "Vance", "Vega", "Wade", "Ward", "Webb", "West", "Wolfe", "York", "Young",
)

# Cities for json_record: short, single-word, ASCII.
CITIES: tuple[str, ...] = (
    "Oslo", "Rome", "Lima", "Kyiv", "Riga", "Bern", "Cairo", "Delhi", "Dubai", "Paris",
    "Tokyo", "Seoul", "Quito", "Accra", "Dakar", "Hanoi", "Lagos", "Perth", "Porto", "Milan",
    "Boston", "Denver", "Dallas", "Austin", "Miami", "Omaha", "Tulsa", "Reno", "Fargo", "Salem",
)

# Names of the boolean field in json_record; varied so the model must read the prompt.
FLAG_KEYS: tuple[str, ...] = ("active", "admin", "member", "verified", "retired", "vip")

# Latin-square symbols: A-Z and 0-9, as in ParallelBench (a generic alphabet, not their data).
SYMBOLS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + tuple("0123456789")
