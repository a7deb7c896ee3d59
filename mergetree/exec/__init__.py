"""Query execution: vectorized expression evaluation (`expression`) and, later, operators."""
