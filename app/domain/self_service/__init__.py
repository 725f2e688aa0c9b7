"""Self-service: household members see their own file (their data, the household's plan, their
consents and who accessed their data), withdraw a consent, agree to the plan and download their
subject-access export; their coordinator switches it on or off and hands out activation codes."""
