"""After publishing: insights and followers, comments, outcomes, reports and their charts."""
