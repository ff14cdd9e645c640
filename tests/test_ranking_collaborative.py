"""Other people's ratings: only people who agree on enough shared posts count, and their
ratings reach only the posts this user has not rated."""

from __future__ import annotations

from ppb.ranking import peer_seeds, similar_peers

OWN = {post: (1.0 if post % 2 else -1.0) for post in range(1, 11)}  # likes the odd posts


def _ratings(peer: int, agree: bool, posts: range = range(1, 11)) -> list[tuple[int, int, float]]:
    return [(peer, post, OWN[post] if agree else -OWN[post]) for post in posts]


def test_alike_people_count_and_the_contrary_or_barely_overlapping_do_not() -> None:
    co = _ratings(7, agree=True) + _ratings(8, agree=False) + _ratings(9, True, range(1, 4))
    peers = similar_peers(OWN, co)
    assert list(peers) == [7]
    assert 0 < peers[7] <= 1


def test_a_peers_rating_seeds_only_posts_the_user_has_not_rated() -> None:
    peers = {7: 0.5}
    theirs = [(7, 3, -1.0), (7, 100, 1.0), (7, 101, -0.3), (8, 102, 1.0)]
    ids, values = peer_seeds(OWN, peers, theirs)
    seeded = dict(zip(ids.tolist(), values.tolist()))
    assert set(seeded) == {100, 101}, "own ratings and strangers' posts are left out"
    assert seeded[100] > 0 > seeded[101]
    assert abs(seeded[100]) < 1.0, "a peer's rating weighs less than the user's own"
