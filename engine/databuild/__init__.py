"""Building Interactive-PEDES annotations from person images or existing captions (paper §3.2).

``interreid data build`` runs the paper's three steps (coarse-to-fine captioning, sub-caption
decomposition, dialogue generation) with the prompts of ``resources/prompts/databuild.yaml``
through a model backend (:mod:`.backends`), caches every model call (:mod:`.cache`), validates
the dialogues and splits the identities (:mod:`.validate`) and reports Table 4-style
statistics (:mod:`.stats`). :func:`.pipeline.build` is the entry point.
"""
