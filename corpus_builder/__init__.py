"""Wikipedia corpus, parallel and monolingual text, tokenizer and Arrow shards (issues 3 and 4; not written yet)."""
