"""Real datasets shipped with crmlab (CDNOW, donations); see README.md beside this file.

Read them with :func:`crmlab.load_cdnow` and :func:`crmlab.load_donations`.
"""
