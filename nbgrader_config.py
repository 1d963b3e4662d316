# nbgrader configuration of the course: the repository root is the course root.
# Everything is set in one place, autograder/course.py, shared with optimlab-grade.
from autograder.course import configure

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
configure(c)
