"""Data: loaders -> Corpus, tokenization, vocabulary, splits, synthetic tasks, dataset catalog."""
