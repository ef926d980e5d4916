"""Apache Beam PTransforms, DoFns and CombineFns: thin wrappers over ``traffic``."""
