"""`keysweep fleet`: many repositories' histories on Dask, incrementally (issue 13).

    discovery.py  which repositories: REPO arguments, --root walk, --repos-file; clone URLs checked,
                  redacted for display and mirrored into the state dir
    state.py      the private SQLite state: per repository the tips scanned and where each key was added
    tasks.py      the per-repository task (the history functions `keysweep git` uses), commit-range
                  tasks for a very large history, and the merge of their locations
    cluster.py    a LocalCluster of --workers processes, or an existing scheduler (--scheduler)
    run.py        orchestration: plan, submit, collect, store, one Report; stats and progress
"""
