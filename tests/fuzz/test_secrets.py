"""Fuzz SL501's name test: the fast lowercase search says what the case-insensitive pattern says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slsalint.checks.secrets import SECRET_NAME, secret_name

# Letters of the pattern's words in both cases, the separators it allows, and the non-ASCII
# letters case-insensitive matching equates with ASCII ones.
names = st.text(
    alphabet="secrtokanpswdiyulgmvhSECRTOKANPSWDIYULGMVH_-:.0\u017f\u212a\u0130\u0131", max_size=24
)


@given(names)
def test_secret_name_matches_the_case_insensitive_pattern(name: str) -> None:
    assert secret_name(name) is (SECRET_NAME.search(name) is not None)


@given(
    st.sampled_from(
        [
            "secret",
            "token",
            "password",
            "passwd",
            "pwd",
            "api_key",
            "access-key",
            "privatekey",
            "credential",
            "auth",
            "client_secret",
            "signing-key",
            "npmrc",
            "pypirc",
        ]
    ),
    st.text(max_size=6),
    st.text(max_size=6),
)
def test_every_word_of_the_pattern_is_found_in_any_case(word: str, before: str, after: str) -> None:
    for spelled in (word, word.upper(), word.title()):
        name = before + spelled + after
        assert secret_name(name) is (SECRET_NAME.search(name) is not None) is True
