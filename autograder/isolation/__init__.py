"""Running student code: everything that stands between the grader and a submission.

- :mod:`autograder.isolation.policy`        every mount, environment variable and cap of the
  kernel and the sandbox, each with its reason;
- :mod:`autograder.isolation.bubblewrap`    runs a command under bubblewrap with that allow-list;
- :mod:`autograder.isolation.supervisor`    the process between the grader and bubblewrap: starts
  the command in its control group, stops it at the disk cap, reports peaks and caps reached;
- :mod:`autograder.isolation.cgroups`       a control group per submission where the machine
  allows one: caps processes and memory (tmpfs included) even for a grader running as root;
- :mod:`autograder.isolation.kernel`        the isolated, capped kernel nbgrader's autograde runs
  a notebook in;
- :mod:`autograder.isolation.kernel_child`  the kernel's first code inside bubblewrap: the
  lifeline, caps, then ipykernel;
- :mod:`autograder.isolation.lifeline`      the pipe from the supervisor that ends the kernel and
  the sandbox when the supervisor ends;
- :mod:`autograder.isolation.sandbox`       the verification sandbox, the grader's side;
- :mod:`autograder.isolation.sandbox_child` the sandbox's process: runs the submitted code cells
  and answers the grader's requests;
- :mod:`autograder.isolation.wire`          the sandbox's wire format: JSON and raw array bytes,
  never pickle;
- :mod:`autograder.isolation.safe_sympy`    rebuilds a symbolic answer from ``srepr`` text without
  evaluating it.
"""
