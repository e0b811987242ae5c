"""Listeners called alone, with a mock ack, as the bolt-python starter template tests them."""
