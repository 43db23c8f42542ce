"""optimizer/explain"""
