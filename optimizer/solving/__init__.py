"""optimizer/solving"""
