"""Reading what users send: pasted text and Batch uploads, labelled files for Evaluate."""
