"""Sources turn inputs (files, stdin, git history, logs, bundles) into Chunks."""
