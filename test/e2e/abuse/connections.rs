//! Connection slots, slow and stalled clients, unread responses and read amplification.
