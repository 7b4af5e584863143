"""Running untrusted code: a user's training script, sandboxed with bubblewrap.

No network (a new, empty network namespace), only its own processes, the dataset
read-only, writes only to its output directory, and limits on memory, CPU, time,
file sizes, open files and processes. ``bwrap`` builds what the script sees,
``launcher`` is the first code that runs inside, ``run`` supervises it.
"""
