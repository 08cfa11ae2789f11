//! Deletion-password guessing, look-alike names and invisible text, duplicate JSON keys.
