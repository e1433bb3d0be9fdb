"""What is graded and how it is judged: the checks as data, the catalogue of each assignment, the judge, the mutants."""
