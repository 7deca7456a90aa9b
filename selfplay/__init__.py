"""Everything concurrent, on disk or long-running: data, workers, training stages, the command line."""
