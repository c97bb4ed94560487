"""Exports round-trip: ingest, export, ingest into a fresh store gives the same papers."""

from pathlib import Path

import bibtexparser

from assistant.export import to_bibtex
from assistant.papers import Paper, merge
from assistant.readers import read_file
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import FIXTURES

LIBRARY = FIXTURES / "export" / "library.bib"
# Text that LaTeX and pylatexenc read specially: comments, alignment tabs, ligatures, macros.
NASTY = [
    "Cut at 50% & more -- or --- less: ``quoted'' and `single' ''' !` ?` -- done",
    r"A \backslash, {braces}, a lone { and a lone }, ~tilde, ^caret, _under, #hash, $dollar",
    r"Math stays as written: $\alpha$-divergence and $\mathbb{R}^{n}$, costs $5 and $6",
    "Unicode: Müller, 東京, Łukasz, α–β — “quotes” « guillemets »",
]


def _store(path: Path) -> Store:
    settings = Settings()
    settings.store.path = path
    return Store(settings.store)


def _texts(store: Store) -> set[tuple[str | None, str, str, int | None]]:
    return {(p.key, p.title, p.abstract, p.year) for p in store.papers()}


def test_seed_corpus_survives_bibtex_and_json_export_and_reingest(
    cli, seed_store: Path, tmp_path: Path
) -> None:
    original = _store(seed_store)
    for format_name, suffix in [("bibtex", "bib"), ("json", "json")]:
        exported = cli("papers", "export", "--format", format_name, "--store", seed_store)
        assert exported.code == 0, exported.err
        path = tmp_path / f"export.{suffix}"
        path.write_text(exported.out, "utf-8")
        fresh = tmp_path / f"fresh-{format_name}"
        report = cli("ingest", path, "--store", fresh, "--json")
        assert report.code == 0, report.err
        assert report.json()["rejected"] == []
        again = _store(fresh)
        # byte for byte: keys, titles, abstracts (43 seed abstracts hold %, & or --) and years
        assert _texts(again) == _texts(original), format_name
        assert [p.authors for p in again.papers()] == [p.authors for p in original.papers()]
        assert again.info().chunks == original.info().chunks
    # JSON holds every field: author counts and dates of listing pages come back too
    whole = [p.model_dump(exclude={"sources"}) for p in _store(fresh).papers()]
    assert whole == [p.model_dump(exclude={"sources"}) for p in original.papers()]


def test_a_users_bib_keeps_entry_types_fields_and_doi_case(cli, tmp_path: Path) -> None:
    assert cli("ingest", LIBRARY).code == 0
    exported = cli("papers", "export", "--format", "bibtex")
    assert exported.code == 0, exported.err
    written = bibtexparser.parse_string(exported.out)
    assert not written.failed_blocks
    source = bibtexparser.parse_string(LIBRARY.read_text("utf-8"))
    read = [p for p in read_file(LIBRARY) if isinstance(p, Paper)]
    stored = {p.title: p for p in _store(tmp_path / "store").papers()}
    assert len(source.entries) == len(read) == len(stored) == len(written.entries) == 3
    for entry, paper in zip(source.entries, read):
        out = written.entries_dict[stored[paper.title].key or ""]
        assert out.entry_type == entry.entry_type
        given = {f.key: f.value for f in entry.fields}
        assert {f.key: f.value for f in out.fields if f.key in given} == given

    bert_key = stored["BERT: Pre-training of Deep Bidirectional Transformers"].key or ""
    bert = written.entries_dict[bert_key]
    assert bert["title"] == "{BERT}: Pre-training of Deep Bidirectional Transformers"
    assert bert["doi"] == "10.18653/V1/N19-1423"
    he = next(e for e in written.entries if e.get("pages"))
    assert (he.entry_type.lower(), he["volume"], he["pages"]) == ("inproceedings", "1", "770--778")
    assert "journal" not in he.fields_dict
    assert stored["Deep Residual Learning for Image Recognition"].doi == "10.1109/CVPR.2016.90"

    path = tmp_path / "export.bib"
    path.write_text(exported.out, "utf-8")
    assert cli("ingest", path, "--store", tmp_path / "fresh").code == 0
    before = [p.model_dump(exclude={"sources"}) for p in _store(tmp_path / "store").papers()]
    after = [p.model_dump(exclude={"sources"}) for p in _store(tmp_path / "fresh").papers()]
    assert after == before


def test_derived_fields_read_back_exactly(tmp_path: Path) -> None:
    papers = [
        Paper(
            key=f"k{n}",
            title=text,
            abstract=f"{text} {text}",
            authors=["Barnes and Noble", "O'Brien, Pat", text],
            year=2000 + n,
            venue=text,
            doi=f"10.1000/ABC_{n}",
            url=f"https://example.org/a_b%20c?x={n}&y=~z",
        )
        for n, text in enumerate(NASTY)
    ]
    bib = to_bibtex(papers)
    # LaTeX escapes, not raw specials; math as written
    assert r"50\% \& more -{}- or -{}-{}- less" in bib
    assert r"$\alpha$-divergence" in bib
    path = tmp_path / "out.bib"
    path.write_text(bib, "utf-8")
    got = [p for p in read_file(path) if isinstance(p, Paper)]
    fields = ("title", "abstract", "authors", "year", "venue", "doi", "url")
    assert [p.model_dump(include=set(fields)) for p in got] == [
        p.model_dump(include=set(fields)) for p in papers
    ]


def test_a_merged_abstract_is_exported_and_the_source_fields_kept() -> None:
    he = next(p for p in read_file(LIBRARY) if isinstance(p, Paper) and p.title.startswith("Deep"))
    longer = Paper(
        title=he.title,
        abstract=he.abstract + " A longer copy: 3.57% error -- first place & more.",
        sources=["more.json:1"],
    )
    for merged in (merge(he, longer), merge(longer, he)):
        assert (merged.bibtex_type, merged.bibtex_fields) == (he.bibtex_type, he.bibtex_fields)
        bib = to_bibtex([merged.model_copy(update={"key": "he"})])
        (entry,) = bibtexparser.parse_string(bib).entries
        assert (entry["booktitle"], entry["pages"]) == (
            he.bibtex_fields["booktitle"],
            he.bibtex_fields["pages"],
        )
        assert entry["abstract"].endswith(r"3.57\% error -{}- first place \& more.")


def test_a_bib_entry_keeps_its_own_key_unless_another_paper_holds_it(cli, tmp_path: Path) -> None:
    entry = (
        "@article{{{key},\n  title = {{{title}}},\n  abstract = {{{title} is studied here.}},\n}}\n"
    )
    first = tmp_path / "first.bib"
    first.write_text(entry.format(key="myOwnKey", title="Sparse attention for long documents"))
    assert cli("ingest", first).code == 0
    second = tmp_path / "second.bib"
    second.write_text(
        entry.format(key="myOwnKey", title="Dense retrieval of protein structures")
        + entry.format(key="Smith:2020-x", title="Gradient noise in small batches")
    )
    assert cli("ingest", second).code == 0
    keys = {p["title"]: p["key"] for p in cli("papers", "list", "--json").json()}
    assert keys["Sparse attention for long documents"] == "myOwnKey"
    assert keys["Gradient noise in small batches"] == "Smith:2020-x"
    # the key was taken: the second paper gets a made one
    assert keys["Dense retrieval of protein structures"] not in ("myOwnKey", "Smith:2020-x")
