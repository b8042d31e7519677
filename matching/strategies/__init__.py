"""How a round is solved, by size: whole (:mod:`.whole`), priced (:mod:`.priced`) or in
parts (:mod:`.parts`). :func:`matching.solve.solve` chooses one."""
