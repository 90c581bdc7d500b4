"""placeholder replaced below"""
RUNNERS = []
