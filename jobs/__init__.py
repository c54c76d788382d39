"""spark-submit entry points. Only this package touches Spark."""
