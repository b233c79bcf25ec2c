"""Examples of an outside model and an outside data set, written the way a user would write them.

They are what the README tutorial "Test the claims on your own model" builds, and what
tests/test_own_model.py puts through the claims suite:

    model = "fgcore.examples.tiny_net:build"     in a fixture's [spec]
    dataset = "fgcore.examples.blobs:load"
"""
