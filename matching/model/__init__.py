"""The CP-SAT model: variables, one class per rule, one class per objective term."""
