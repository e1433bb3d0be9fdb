"""Building the course: support files and the release, sample submissions, the reference's figures."""
