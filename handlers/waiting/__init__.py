"""The waiting core: start the work once (reconciled), wait by polling or by callback rounds, deliver, release.

It talks to the work only through the ``work_start.WaitedWork`` port; the job kinds live in ``job_kinds``.
"""
