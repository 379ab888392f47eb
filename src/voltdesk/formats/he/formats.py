# Israeli usage groups thousands with a comma (15,174,842); Django's Hebrew
# locale does not group at all, which makes kWh figures hard to read.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
