"""The solvers a stage may call, each built from one formulation
(:class:`~matching.model.formulation.Formulation`): CP-SAT (:mod:`.cpsat`), the LP
relaxation on GLOP (:mod:`.lp`) and SCIP (:mod:`.mip`)."""
