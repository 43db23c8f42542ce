"""optimizer/studies"""
