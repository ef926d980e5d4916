"""Entry points: the job, the sample generator, the evaluation."""
