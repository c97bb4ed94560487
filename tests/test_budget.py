"""Token budgets: prompts are sized before the call, and what does not fit is reported."""

from assistant.llm.budget import message_tokens, pack, usable_window
from assistant.tokens import count_tokens


def test_message_tokens_count_content_and_role_markers() -> None:
    messages = [
        {"role": "system", "content": "You cite papers."},
        {"role": "user", "content": "Which papers study recall?"},
    ]
    content = count_tokens("You cite papers.") + count_tokens("Which papers study recall?")
    assert message_tokens(messages) == content + 2 * 4 + 3


def test_pack_keeps_ranked_items_in_order_and_reports_the_cut() -> None:
    texts = ["alpha " * 40, "beta " * 70, "gamma " * 20, "delta " * 50]
    sizes = [count_tokens(text) for text in texts]
    packed = pack(["a", "b", "c", "d"], texts, budget=sizes[0] + sizes[2] + 5)
    # b does not fit after a; c still does; d no longer does
    assert packed.kept == ["a", "c"]
    assert packed.cut == ["b", "d"]
    assert packed.tokens == sizes[0] + sizes[2]


def test_pack_with_room_for_everything_cuts_nothing() -> None:
    packed = pack([1, 2], ["one", "two"], budget=100)
    assert (packed.kept, packed.cut) == ([1, 2], [])


def test_usable_window_keeps_the_margin_free() -> None:
    assert usable_window(8192, 0.10) == 7372
