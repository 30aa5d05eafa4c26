"""Instagram: the Graph API client, the county's channel (connecting, tokens) and token encryption."""
