"""The Step Functions API served over HTTP (`asl serve`) and the schedules that start executions."""
