//! Quote amplification and unbounded threads: posting, deleting and pruning stay linear.
